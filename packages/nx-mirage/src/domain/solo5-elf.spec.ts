import { describe, expect, it } from 'vitest';
import { ABI1_NOTE_TYPE, ElfFormatError, MFT1_NOTE_TYPE, readSolo5Notes } from './solo5-elf';
import { abiProblem, buildManifest } from './manifest';

/** A minimal ELF64 LE file of type `type` (2: ET_EXEC, 3: ET_DYN) with one PT_NOTE segment per entry of `segments`. */
function elf(segments: Buffer[], type = 2): Buffer {
  const header = Buffer.alloc(64);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  header.writeUInt16LE(type, 0x10);
  header.writeBigUInt64LE(64n, 0x20); // phoff
  header.writeUInt16LE(56, 0x36); // phentsize
  header.writeUInt16LE(segments.length, 0x38); // phnum
  let offset = 64 + 56 * segments.length;
  const phs = segments.map((notes) => {
    const ph = Buffer.alloc(56);
    ph.writeUInt32LE(4, 0); // PT_NOTE
    ph.writeBigUInt64LE(BigInt(offset), 0x08);
    ph.writeBigUInt64LE(BigInt(notes.length), 0x20); // filesz
    offset += notes.length;
    return ph;
  });
  return Buffer.concat([header, ...phs, ...segments]);
}

/** A note that is not Solo5's, as GNU ld puts first in a shared PT_NOTE (build-id, ABI tag). */
function gnuNote(): Buffer {
  const n = Buffer.alloc(16 + 8);
  n.writeUInt32LE(4, 0);
  n.writeUInt32LE(8, 4);
  n.writeUInt32LE(3, 8);
  n.write('GNU\0', 12, 'latin1');
  return n;
}

function note(type: number, desc: Buffer, descAlign = 4): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(6, 0);
  head.write('Solo5\0', 12, 'latin1');
  head.writeUInt32LE(type, 8);
  const pad = descAlign === 8 ? Buffer.alloc(4) : Buffer.alloc(0);
  head.writeUInt32LE(pad.length + desc.length, 4);
  return Buffer.concat([head, pad, desc]);
}

function abiNote(target: number, version: number): Buffer {
  const d = Buffer.alloc(16);
  d.writeUInt32LE(target, 0);
  d.writeUInt32LE(version, 4);
  return note(ABI1_NOTE_TYPE, d);
}

function manifestNote(devices: Array<[string, number]>): Buffer {
  const d = Buffer.alloc(8 + devices.length * 104);
  d.writeUInt32LE(1, 0);
  d.writeUInt32LE(devices.length, 4);
  devices.forEach(([name, type], i) => {
    d.write(name, 8 + i * 104, 'latin1');
    d.writeUInt32LE(type, 8 + i * 104 + 68);
  });
  return note(MFT1_NOTE_TYPE, d, 8);
}

describe('readSolo5Notes', () => {
  it('reads the ABI and the manifest devices, each the first note of its PT_NOTE segment', () => {
    const notes = readSolo5Notes(elf([abiNote(2, 2), manifestNote([['service', 2], ['storage', 1]])]));
    expect(notes).toEqual({
      elfType: 'exec',
      abi: { target: 'spt', version: 2 },
      manifest: { version: 1, devices: [{ name: 'service', type: 'NET_BASIC' }, { name: 'storage', type: 'BLOCK_BASIC' }] },
    });
  });

  it('reads only the first note of each segment, as the tenders do', () => {
    // After a GNU note in the same segment, as a host linker places them: the tender finds no ABI there.
    expect(readSolo5Notes(elf([Buffer.concat([gnuNote(), abiNote(1, 2)]), manifestNote([])]))).toEqual({
      elfType: 'exec',
      manifest: { version: 1, devices: [] },
    });
    // Two Solo5 notes in one segment: only the first is seen.
    expect(readSolo5Notes(elf([Buffer.concat([abiNote(1, 2), manifestNote([])])])).manifest).toBeUndefined();
  });

  it('reports the ELF type: a position-independent executable is ET_DYN', () => {
    expect(readSolo5Notes(elf([abiNote(1, 2), manifestNote([])], 3)).elfType).toBe('dyn');
  });

  it('finds nothing in an ELF without Solo5 notes', () => {
    expect(readSolo5Notes(elf([]))).toEqual({ elfType: 'exec' });
  });

  it('rejects what is not an ELF64 little-endian file, or is cut short', () => {
    expect(() => readSolo5Notes(Buffer.from('#!/bin/sh\n'))).toThrow(ElfFormatError);
    const e32 = elf([]);
    e32[4] = 1;
    expect(() => readSolo5Notes(e32)).toThrow(/64-bit/);
    const full = elf([manifestNote([['service', 2]])]);
    expect(() => readSolo5Notes(full.subarray(0, full.length - 50))).toThrow(ElfFormatError);
  });
});

describe('manifest', () => {
  it('flags a Solo5 target whose artifact a tender would refuse: not ET_EXEC, no or the wrong ABI note, no manifest', () => {
    const manifest = { version: 1, devices: [] };
    expect(abiProblem('hvt', { elfType: 'exec' })).toMatch(/^it has no Solo5 ABI note first in a PT_NOTE segment \(a tender would say "No Solo5 ABI information found in executable"\)/);
    expect(abiProblem('hvt', { elfType: 'dyn', abi: { target: 'hvt', version: 2 }, manifest })).toMatch(
      /^it is a position-independent executable \(ELF type DYN\), which the Solo5 tenders refuse \("invalid or unsupported executable"\), so it was not linked by the Solo5 toolchain/,
    );
    expect(abiProblem('hvt', { elfType: 'exec', abi: { target: 'spt', version: 2 }, manifest })).toBe('its Solo5 ABI is spt, not hvt');
    expect(abiProblem('hvt', { elfType: 'exec', abi: { target: 'hvt', version: 1 }, manifest })).toMatch(/ABI version is 1; nx-mirage expects 2/);
    expect(abiProblem('hvt', { elfType: 'exec', abi: { target: 'hvt', version: 2 } })).toMatch(/No Solo5 manifest found in executable/);
    expect(abiProblem('hvt', { elfType: 'exec', abi: { target: 'hvt', version: 2 }, manifest })).toBeUndefined();
    expect(abiProblem('unix', { elfType: 'dyn' })).toBeUndefined();
  });

  it('is deterministic for identical inputs', () => {
    const input = { name: 'a', target: 'hvt' as const, artifact: 'a.hvt', bytes: Buffer.from('x'), notes: { abi: { target: 'hvt' as const, version: 2 } }, toolchain: { dune: '2.9.3' } };
    expect(JSON.stringify(buildManifest(input))).toBe(JSON.stringify(buildManifest(input)));
    expect(buildManifest(input)).toMatchObject({ size: 1, sha256: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881', devices: [] });
  });
});
