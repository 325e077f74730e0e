/**
 * Reads the Solo5 notes of a unikernel ELF as the Solo5 tenders and `solo5-elftool` do (tenders/common/elf.c,
 * Solo5 0.12.1), without solo5-elftool: only the first note of each PT_NOTE segment counts, section headers
 * are not read, and the ELF type is reported, because the tenders refuse anything but a static executable
 * (ET_EXEC). The "ABI1" note gives the target and ABI version, the "MFT1" note the devices the unikernel needs.
 * Layouts follow Solo5's elf_abi.h and mft_abi.h for ELF64 little-endian.
 */

export type Solo5AbiName = 'hvt' | 'spt' | 'virtio' | 'muen' | 'genode' | 'xen' | 'unknown';
export type Solo5DeviceType = 'BLOCK_BASIC' | 'NET_BASIC';

export interface Solo5Device {
  name: string;
  type: Solo5DeviceType;
}

export interface Solo5Notes {
  /** `exec`: ET_EXEC, what the tenders load; `dyn`: ET_DYN, a position-independent executable or library. */
  elfType?: 'exec' | 'dyn' | 'other';
  abi?: { target: Solo5AbiName; version: number };
  manifest?: { version: number; devices: Solo5Device[] };
}

const ABI_TARGETS: Record<number, Solo5AbiName> = { 1: 'hvt', 2: 'spt', 3: 'virtio', 4: 'muen', 5: 'genode', 6: 'xen' };
const DEVICE_TYPES: Record<number, Solo5DeviceType> = { 1: 'BLOCK_BASIC', 2: 'NET_BASIC' };

export const ABI1_NOTE_TYPE = 0x31494241;
export const MFT1_NOTE_TYPE = 0x3154464d;
const SOLO5_OWNER = 'Solo5';
const PT_NOTE = 4;
const ET_EXEC = 2;
const ET_DYN = 3;
/** sizeof(Elf64_Nhdr) + the name "Solo5" padded to 8: where a Solo5 note's descriptor may start. */
const SOLO5_NHDR_SIZE = 20;
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
 * The ELF type and the Solo5 notes of an ELF64 little-endian file, as a tender sees them. A host (unix)
 * executable has no notes. Throws ElfFormatError for data that is not such an ELF file, or whose program
 * headers or notes are cut short (what the tenders call an invalid executable).
 */
export function readSolo5Notes(data: Uint8Array): Solo5Notes {
  if (!isElf(data)) throw new ElfFormatError('not an ELF file');
  if (data[4] !== 2) throw new ElfFormatError('not a 64-bit ELF file (Solo5 unikernels are ELF64)');
  if (data[5] !== 1) throw new ElfFormatError('not a little-endian ELF file');
  if (data.length < 64) throw new ElfFormatError('the ELF header is cut short');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const u64 = (o: number) => Number(view.getBigUint64(o, true));

  const type = u16(0x10);
  const notes: Solo5Notes = { elfType: type === ET_EXEC ? 'exec' : type === ET_DYN ? 'dyn' : 'other' };
  const phoff = u64(0x20);
  const phentsize = u16(0x36);
  const phnum = u16(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 0x38 > data.length) throw new ElfFormatError('program header table is cut short');
    if (u32(ph) !== PT_NOTE) continue;
    const start = u64(ph + 0x08);
    const size = u64(ph + 0x20);
    if (size < 12) throw new ElfFormatError(`PT_NOTE segment ${i} is smaller than a note header`);
    if (size < SOLO5_NHDR_SIZE) continue;
    if (start + size > data.length) throw new ElfFormatError('a note segment lies beyond the end of the file');
    // The first note of the segment only: the tenders never look further.
    const namesz = u32(start);
    const descsz = u32(start + 4);
    const noteType = u32(start + 8);
    if (namesz !== SOLO5_OWNER.length + 1 || cString(data, start + 12, namesz) !== SOLO5_OWNER) continue;
    const desc = start + SOLO5_NHDR_SIZE;
    if (desc + descsz > start + size) throw new ElfFormatError('a Solo5 note is cut short');
    if (noteType === ABI1_NOTE_TYPE && !notes.abi) notes.abi = readAbi(u32, desc, descsz);
    if (noteType === MFT1_NOTE_TYPE && !notes.manifest) notes.manifest = readManifest(data, u32, start, desc, descsz);
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
