// TLB layout shared by the CPU fast path and the page walker. Entries are
// direct-mapped by a hash of the linear page number, ((lo >>> 12) ^ (lo >>> 22) ^ hi)
// & TLB_MASK, so pages 4 MiB apart (code vs data, user vs kernel half) do not
// evict each other as a plain page-number index would; each holds the tag (linear page, split
// in halves), the physical page base and the access rights, pre-combined for
// user/supervisor and SMAP so the fast path needs one AND.

export const TLB_BITS = 10;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;

/** Access kinds for translation. */
export const ACC_READ = 0;
export const ACC_WRITE = 1;
export const ACC_EXEC = 2;

/** Permission bits of a TLB entry. Write bits are present only when the page is dirty and holds no cached code. */
export const P_RU = 1; // user read
export const P_WU = 2; // user write
export const P_XU = 4; // user execute
export const P_RS = 8; // supervisor read (SMAP enforced)
export const P_WS = 16; // supervisor write (SMAP enforced)
export const P_XS = 32; // supervisor execute
export const P_RS_AC = 64; // supervisor read with RFLAGS.AC overriding SMAP
export const P_WS_AC = 128; // supervisor write with RFLAGS.AC overriding SMAP
export const P_ALL = 255;
export const P_WRITE_BITS = P_WU | P_WS | P_WS_AC;
