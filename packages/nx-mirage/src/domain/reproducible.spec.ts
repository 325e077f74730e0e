import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compareBuilds, elfSections, locate, mismatchMessage } from './reproducible';

// A real ELF64 executable of this machine, as the two "builds".
const elf = readFileSync('/bin/true');
const section = (name: string) => elfSections(elf)!.find((s) => s.name === name)!;

describe('compareBuilds', () => {
  it('finds equal builds equal', () => {
    expect(compareBuilds(elf, Buffer.from(elf))).toMatchObject({ same: true, image: { size: elf.length } });
  });

  it('names the section of the first differing byte', () => {
    const text = section('.text');
    const other = Buffer.from(elf);
    other[text.offset + 5]! ^= 0xff;
    const c = compareBuilds(elf, other);
    expect(c).toMatchObject({ same: false, offset: text.offset + 5, where: 'section .text (at 0x5 in it)' });
    expect(!c.same && mismatchMessage('u.hvt', c)).toMatch(/^u\.hvt does not build reproducibly: the first build is \d+ bytes \(sha256 [0-9a-f]{16}…\), the second \d+ bytes .*; they first differ at byte \d+ \(0x[0-9a-f]+\), in section \.text \(at 0x5 in it\)\.$/);
  });

  it('looks past the GNU build-id note, which hashes the rest, to what differs', () => {
    const id = section('.note.gnu.build-id');
    const data = section('.data');
    const other = Buffer.from(elf);
    other[id.offset + id.size - 1]! ^= 0xff;
    other[data.offset]! ^= 0xff;
    const c = compareBuilds(elf, other);
    expect(c).toMatchObject({ same: false, offset: data.offset, buildIdDiffers: true });
    expect(!c.same && mismatchMessage('u.hvt', c)).toMatch(/in section \.data \(at 0x0 in it\) \(their GNU build-id notes differ too, as they hash the rest\)\.$/);
    const onlyId = Buffer.from(elf);
    onlyId[id.offset + id.size - 1]! ^= 0xff;
    expect(compareBuilds(elf, onlyId)).toMatchObject({ same: false, where: 'section .note.gnu.build-id (at 0x0 in it)' });
  });

  it('tells headers, a longer file and a file that is not ELF apart', () => {
    expect(locate(elf, 3)).toBe('the ELF header');
    expect(locate(elf, elf.length)).toBe('past the end of the first build (one is longer)');
    expect(locate(Buffer.from('plain text'), 2)).toBe('not in an ELF file');
    const longer = Buffer.concat([elf, Buffer.from([0])]);
    expect(compareBuilds(elf, longer)).toMatchObject({ same: false, offset: elf.length });
  });
});
