/**
 * Comparing two builds of one artifact (`verify`): equal, or where they first differ, named by the ELF
 * section that holds the byte (ELF64 and ELF32, either byte order), else by its offset.
 */
import { createHash } from 'node:crypto';
import { isElf } from './solo5-elf';

export interface BuildImage {
  size: number;
  sha256: string;
}

export type Comparison =
  | { same: true; image: BuildImage }
  | { same: false; first: BuildImage; second: BuildImage; offset: number; where: string; buildIdDiffers?: boolean };

const SHT_NOBITS = 8;

export function compareBuilds(a: Uint8Array, b: Uint8Array): Comparison {
  const image = (d: Uint8Array): BuildImage => ({ size: d.length, sha256: createHash('sha256').update(d).digest('hex') });
  const first = image(a);
  const second = image(b);
  if (first.sha256 === second.sha256 && first.size === second.size) return { same: true, image: first };
  // The GNU build-id note hashes the rest of the file: when it differs, what made it differ lies elsewhere.
  const buildId = sectionRange(a, '.note.gnu.build-id');
  const inBuildId = (o: number) => buildId !== undefined && o >= buildId.start && o < buildId.end;
  const n = Math.min(a.length, b.length);
  let offset = 0;
  let buildIdDiffers = false;
  while (offset < n && (a[offset] === b[offset] || inBuildId(offset))) {
    if (a[offset] !== b[offset]) buildIdDiffers = true;
    offset++;
  }
  if (offset === n && a.length === b.length && buildIdDiffers) offset = buildId!.start; // only the note differs
  return { same: false, first, second, offset, where: locate(a, offset), ...(buildIdDiffers ? { buildIdDiffers } : {}) };
}

/** The file range of a section, by name, in an ELF file. */
function sectionRange(data: Uint8Array, name: string): { start: number; end: number } | undefined {
  const found = elfSections(data)?.find((s) => s.name === name);
  return found ? { start: found.offset, end: found.offset + found.size } : undefined;
}

interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
}

interface ElfLayout {
  ehsize: number;
  ph: { start: number; end: number };
  sh: { start: number; end: number };
  sections: ElfSection[];
}

function elfLayout(data: Uint8Array): ElfLayout | undefined {
  if (!isElf(data) || data.length < 52) return undefined;
  const is64 = data[4] === 2;
  const little = data[5] === 1;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u16 = (o: number) => view.getUint16(o, little);
  const u32 = (o: number) => view.getUint32(o, little);
  const word = (o: number) => (is64 ? Number(view.getBigUint64(o, little)) : u32(o));
  try {
    const phoff = word(is64 ? 0x20 : 0x1c);
    const shoff = word(is64 ? 0x28 : 0x20);
    const phentsize = u16(is64 ? 0x36 : 0x2a);
    const phnum = u16(is64 ? 0x38 : 0x2c);
    const shentsize = u16(is64 ? 0x3a : 0x2e);
    const shnum = u16(is64 ? 0x3c : 0x30);
    const shstrndx = u16(is64 ? 0x3e : 0x32);
    const raw = Array.from({ length: shnum }, (_, i) => {
      const at = shoff + i * shentsize;
      return { nameAt: u32(at), type: u32(at + 4), offset: word(at + (is64 ? 0x18 : 0x10)), size: word(at + (is64 ? 0x20 : 0x14)) };
    });
    const strtab = raw[shstrndx];
    const nameOf = (at: number) => {
      if (!strtab) return '?';
      let end = strtab.offset + at;
      while (end < data.length && data[end] !== 0) end++;
      return new TextDecoder().decode(data.subarray(strtab.offset + at, end)) || '?';
    };
    return {
      ehsize: u16(is64 ? 0x34 : 0x28),
      ph: { start: phoff, end: phoff + phentsize * phnum },
      sh: { start: shoff, end: shoff + shentsize * shnum },
      sections: raw.slice(1).map((r) => ({ name: nameOf(r.nameAt), type: r.type, offset: r.offset, size: r.size })),
    };
  } catch {
    return undefined;
  }
}

export function elfSections(data: Uint8Array): ElfSection[] | undefined {
  return elfLayout(data)?.sections;
}

/** What holds byte `offset` of an ELF file: a section by name, the ELF header, or a table; for other files, nothing more than the offset. */
export function locate(data: Uint8Array, offset: number): string {
  if (offset >= data.length) return 'past the end of the first build (one is longer)';
  if (!isElf(data)) return 'not in an ELF file';
  const layout = elfLayout(data);
  if (!layout) return 'an ELF file whose headers are cut short';
  if (offset < layout.ehsize) return 'the ELF header';
  if (offset >= layout.ph.start && offset < layout.ph.end) return 'the program headers';
  if (offset >= layout.sh.start && offset < layout.sh.end) return 'the section headers';
  const s = layout.sections.find((x) => x.type !== SHT_NOBITS && x.size > 0 && offset >= x.offset && offset < x.offset + x.size);
  return s ? `section ${s.name} (at 0x${(offset - s.offset).toString(16)} in it)` : 'no section (padding between sections)';
}

/** The message verify prints for a mismatch. */
export function mismatchMessage(artifact: string, c: Extract<Comparison, { same: false }>): string {
  return (
    `${artifact} does not build reproducibly: the first build is ${c.first.size} bytes (sha256 ${c.first.sha256.slice(0, 16)}…), ` +
    `the second ${c.second.size} bytes (sha256 ${c.second.sha256.slice(0, 16)}…); they first differ at byte ${c.offset} (0x${c.offset.toString(16)}), in ${c.where}` +
    (c.buildIdDiffers && !c.where.startsWith('section .note.gnu.build-id') ? ' (their GNU build-id notes differ too, as they hash the rest).' : '.')
  );
}
