/**
 * Reads the Solo5 notes of a unikernel ELF, as `solo5-elftool query-abi` and `query-manifest` report them,
 * without solo5-elftool: the "ABI1" note (target and ABI version) and the "MFT1" note (the devices the
 * unikernel needs). Layouts follow Solo5's elf_abi.h and mft_abi.h for ELF64 little-endian.
 */

export type Solo5AbiName = 'hvt' | 'spt' | 'virtio' | 'muen' | 'genode' | 'xen' | 'unknown';
export type Solo5DeviceType = 'BLOCK_BASIC' | 'NET_BASIC';

export interface Solo5Device {
  name: string;
  type: Solo5DeviceType;
}

export interface Solo5Notes {
  abi?: { target: Solo5AbiName; version: number };
  manifest?: { version: number; devices: Solo5Device[] };
}

const ABI_TARGETS: Record<number, Solo5AbiName> = { 1: 'hvt', 2: 'spt', 3: 'virtio', 4: 'muen', 5: 'genode', 6: 'xen' };
const DEVICE_TYPES: Record<number, Solo5DeviceType> = { 1: 'BLOCK_BASIC', 2: 'NET_BASIC' };

export const ABI1_NOTE_TYPE = 0x31494241;
export const MFT1_NOTE_TYPE = 0x3154464d;
const SOLO5_OWNER = 'Solo5';
const PT_NOTE = 4;
const SHT_NOTE = 7;
/** sizeof(struct mft_entry) on 64-bit targets: name[68], type, union u (8-aligned, 16 bytes), union b, bool, padding. */
const MFT_ENTRY_SIZE = 104;
const MFT_NAME_SIZE = 68;

export class ElfFormatError extends Error {
  override name = 'ElfFormatError';
}

/** Whether the bytes start like an ELF file. */
export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

/**
 * The Solo5 notes of an ELF64 little-endian executable. A host (unix) executable has none: the result is `{}`.
 * Throws ElfFormatError for data that is not such an ELF file or whose notes are cut short.
 */
export function readSolo5Notes(data: Uint8Array): Solo5Notes {
  if (!isElf(data)) throw new ElfFormatError('not an ELF file');
  if (data[4] !== 2) throw new ElfFormatError('not a 64-bit ELF file (Solo5 unikernels are ELF64)');
  if (data[5] !== 1) throw new ElfFormatError('not a little-endian ELF file');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const u64 = (o: number) => Number(view.getBigUint64(o, true));

  // Note areas from section headers (SHT_NOTE) and program headers (PT_NOTE); the same bytes may be in both.
  const areas = new Map<number, number>();
  const phoff = u64(0x20);
  const phentsize = u16(0x36);
  const phnum = u16(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 0x38 > data.length) throw new ElfFormatError('program header table is cut short');
    if (u32(ph) === PT_NOTE) areas.set(u64(ph + 0x08), u64(ph + 0x20));
  }
  const shoff = u64(0x28);
  const shentsize = u16(0x3a);
  const shnum = u16(0x3c);
  for (let i = 0; i < shnum && shoff > 0; i++) {
    const sh = shoff + i * shentsize;
    if (sh + 0x40 > data.length) throw new ElfFormatError('section header table is cut short');
    if (u32(sh + 0x04) === SHT_NOTE) {
      const off = u64(sh + 0x18);
      if (!areas.has(off)) areas.set(off, u64(sh + 0x20));
    }
  }

  const notes: Solo5Notes = {};
  const seen = new Set<number>();
  for (const [start, size] of areas) {
    const end = start + size;
    if (end > data.length) throw new ElfFormatError('a note area lies beyond the end of the file');
    let p = start;
    while (p + 12 <= end) {
      const noteStart = p;
      const namesz = u32(p);
      const descsz = u32(p + 4);
      const type = u32(p + 8);
      const nameStart = p + 12;
      const descStart = nameStart + align(namesz, 4);
      const next = descStart + align(descsz, 4);
      if (descStart + descsz > end) throw new ElfFormatError('a note is cut short');
      const owner = cString(data, nameStart, namesz);
      if (owner === SOLO5_OWNER && !seen.has(noteStart)) {
        seen.add(noteStart);
        if (type === ABI1_NOTE_TYPE) notes.abi = readAbi(u32, descStart, descsz);
        if (type === MFT1_NOTE_TYPE) notes.manifest = readManifest(data, u32, noteStart, descStart, descsz);
      }
      p = next;
    }
  }
  return notes;
}

function readAbi(u32: (o: number) => number, desc: number, size: number): Solo5Notes['abi'] {
  if (size < 8) throw new ElfFormatError('the Solo5 ABI note is too short');
  return { target: ABI_TARGETS[u32(desc)] ?? 'unknown', version: u32(desc + 4) };
}

function readManifest(data: Uint8Array, u32: (o: number) => number, noteStart: number, desc: number, size: number): Solo5Notes['manifest'] {
  // struct mft is 8-aligned inside the note (MFT1_NOTE_ALIGN), so padding may sit between the name and it.
  const m = noteStart + align(desc - noteStart, 8);
  const limit = desc + size;
  if (m + 8 > limit) throw new ElfFormatError('the Solo5 manifest note is too short');
  const version = u32(m);
  const entries = u32(m + 4);
  if (m + 8 + entries * MFT_ENTRY_SIZE > limit) throw new ElfFormatError(`the Solo5 manifest note declares ${entries} devices but is too short for them`);
  const devices: Solo5Device[] = [];
  for (let i = 0; i < entries; i++) {
    const e = m + 8 + i * MFT_ENTRY_SIZE;
    const type = DEVICE_TYPES[u32(e + MFT_NAME_SIZE)];
    if (!type) continue; // reserved entry types are not devices a tender attaches
    devices.push({ name: cString(data, e, MFT_NAME_SIZE), type });
  }
  return { version, devices };
}

function align(n: number, to: number): number {
  return (n + to - 1) & ~(to - 1);
}

function cString(data: Uint8Array, start: number, max: number): string {
  let end = start;
  while (end < start + max && data[end] !== 0) end++;
  return Buffer.from(data.subarray(start, end)).toString('latin1');
}
