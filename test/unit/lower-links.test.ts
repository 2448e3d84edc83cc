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
    // In full, two paths of a ~1 KB --root beside 500 short lowers passed mount(2)'s 4096 bytes;
    // named from the links' directory, the options do not grow with --root at all.
    const o = overlayOptions(500);
    expect(o).toBe(`${shortLowerdir(500)},upperdir=../upper,workdir=../work`);
    expect(o.length).toBeLessThan(2048);
  });
});
