/**
 * The files nx-mirage writes through: `.NAME.nx-mirage-XXXXXXXXXXXX` beside NAME, renamed over it once complete
 * (or removed). Hidden, marked and unique, so that nothing mistakes one for a source: serve's watcher sees them
 * appear and vanish next to the files it watches.
 */
export function temporaryName(name: string, unique: string): string {
  return `.${name}.nx-mirage-${unique}`;
}

/** Whether a file name (the last part of a path) is one of those temporary files. */
export function isTemporaryName(name: string): boolean {
  return /^\..+\.nx-mirage-[0-9a-f]+$/.test(name);
}
