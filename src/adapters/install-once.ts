/**
 * Returns the value installed on `target` under `name`, creating it the first
 * time. The key is a registered symbol, so the ESM and the CommonJS build of
 * this package, loaded side by side, still share one installation per bot.
 */
export function installOnce<T>(target: object, name: string, create: () => T): T {
  const key = Symbol.for(`polling-supervisor.adapter.${name}`);
  const slot = target as Record<symbol, T | undefined>;
  const existing = slot[key];
  if (existing !== undefined) return existing;
  const value = create();
  Object.defineProperty(target, key, { value, enumerable: false, configurable: false, writable: false });
  return value;
}
