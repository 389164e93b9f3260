import { MissingDependencyError } from "../errors.js";

/**
 * Runs `load` (an `import()` of an optional peer dependency) and turns "that
 * package is not installed" into a {@link MissingDependencyError} naming it.
 * Any other failure (a broken install, a syntax error inside the package) is
 * rethrown as is, so it is not mistaken for a missing package.
 */
export async function importOptional<Module>(
  packageName: string,
  feature: string,
  load: () => Promise<Module>,
): Promise<Module> {
  try {
    return await load();
  } catch (error) {
    if (isModuleNotFound(error, packageName)) {
      throw new MissingDependencyError(packageName, feature, { cause: error });
    }
    throw error;
  }
}

/** True when `error` says `packageName` itself (not one of its own dependencies) could not be resolved. */
export function isModuleNotFound(error: unknown, packageName: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  // ESM import() says ERR_MODULE_NOT_FOUND; the CommonJS build's require() says MODULE_NOT_FOUND.
  if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") return false;
  return error.message.includes(`'${packageName}'`) || error.message.includes(`"${packageName}"`);
}
