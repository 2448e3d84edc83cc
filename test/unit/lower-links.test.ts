import { describe, expect, it } from 'vitest';
import { overlayOptions, shortLowerdir } from '../../src/runtime/lower-links.js';

describe('the overlay lowerdir option', () => {
  it('names lowers by index, so it stays short', () => {
    expect(shortLowerdir(1)).toBe('lowerdir=0');
    expect(shortLowerdir(3)).toBe('lowerdir=0:1:2');
    // fsconfig takes 256 bytes per value: images of up to 70 layers fit.
    expect(shortLowerdir(70).length - 'lowerdir='.length).toBeLessThan(256);
    // mount(2) takes one page of options: 500 layers fit with room for upperdir and workdir.
    expect(shortLowerdir(500).length).toBe(1898);
  });

  it("past the kernel's 500 lowers, says so by name instead of mount(8)'s 'wrong fs type, bad option'", () => {
    expect(() => shortLowerdir(501)).toThrow(
      expect.objectContaining({
        code: 'ERR_ROOTFS_MOUNT',
        message: expect.stringMatching(/^the image has 501 layers; overlayfs stacks at most 500 /),
      }),
    );
  });

  it('names upper/ and work/ beside the links from them: 500 lowers under a 3 KB --root fit a page', () => {
    // In full, two paths of a ~1 KB --root beside 500 short lowers passed mount(2)'s 4096 bytes.
    const bundle = `/${'r'.repeat(3000)}/containers/0123456789abcdef0123456789abcdef`;
    const o = overlayOptions({
      count: 500,
      links: `${bundle}/lower`,
      upper: `${bundle}/upper`,
      work: `${bundle}/work`,
    });
    expect(o).toBe(`${shortLowerdir(500)},upperdir=../upper,workdir=../work`);
    expect(o.length).toBeLessThan(2048);
  });

  it('names in full an upper or work directory that is not beside the links', () => {
    expect(overlayOptions({ count: 2, links: '/b/lower', upper: '/b/upper', work: '/dev/shm' })).toBe(
      'lowerdir=0:1,upperdir=../upper,workdir=/dev/shm',
    );
  });
});
