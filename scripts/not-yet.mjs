// Placeholder for scripts whose issue has not landed: says so and fails, so CI never mistakes it for a run.
const name = process.argv[2] ?? "this script";
console.error(`npm run ${name}: not yet implemented.`);
process.exit(1);
