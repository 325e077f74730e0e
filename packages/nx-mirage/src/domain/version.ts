/**
 * Versions as the MirageOS tools print and constrain them: `v4.11.1`, `4.11.1`, `0.12.1~beta1`.
 */

export type ConstraintOperator = '>=' | '>' | '<=' | '<' | '=' | '!=';

export interface VersionConstraint {
  op: ConstraintOperator;
  version: string;
}

/** Drops the leading `v` that `mirage --version` prints (`v4.11.1`), as mirage itself does. */
export function normalizeVersion(version: string): string {
  return version.trim().replace(/^v(?=\d)/, '');
}

/**
 * Compares two versions in the Debian/opam style that matters for tool versions: dot- or dash-separated
 * numeric parts compare numerically, text parts lexically, and `~` sorts before anything (so
 * `1.0~beta1 < 1.0`).
 */
export function compareVersions(a: string, b: string): number {
  const pa = splitVersion(normalizeVersion(a));
  const pb = splitVersion(normalizeVersion(b));
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    if (x === undefined) return y === '~' ? 1 : -1;
    if (y === undefined) return x === '~' ? -1 : 1;
    if (x === '~') return -1;
    if (y === '~') return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx < ny ? -1 : 1;
      continue;
    }
    if (!Number.isNaN(nx)) return 1;
    if (!Number.isNaN(ny)) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function splitVersion(v: string): string[] {
  return v.match(/\d+|[A-Za-z]+|~/g) ?? [];
}

export function satisfies(version: string, constraints: readonly VersionConstraint[]): boolean {
  return constraints.every(({ op, version: bound }) => {
    const c = compareVersions(version, bound);
    switch (op) {
      case '>=':
        return c >= 0;
      case '>':
        return c > 0;
      case '<=':
        return c <= 0;
      case '<':
        return c < 0;
      case '=':
        return c === 0;
      case '!=':
        return c !== 0;
    }
  });
}

export function formatConstraints(constraints: readonly VersionConstraint[]): string {
  return constraints.map(({ op, version }) => `${op} ${version}`).join(' & ');
}
