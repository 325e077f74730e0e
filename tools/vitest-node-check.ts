/**
 * Vitest global setup: the tests run on a Node version Nx 24 supports (22.12+ or 24+). The repository installs
 * Node 24 from the npm registry as a devDependency, and npm scripts put it first on PATH.
 */
export default function checkNode(): void {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const supported = major >= 24 || (major === 22 && minor >= 12) || major === 23;
  if (!supported) {
    throw new Error(
      `Tests run on Node ${process.versions.node}, which Nx 24 does not support. Run them through npm ` +
        `("npm test"), which uses the Node 24 installed in node_modules/.bin, or install Node 22.12+.`,
    );
  }
}
