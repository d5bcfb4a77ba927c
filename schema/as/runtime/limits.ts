// Default resource limits for reading untrusted messages. A reader charges
// every struct and list it visits against a traversal budget and refuses to
// follow pointers deeper than a nesting limit, so a small hostile message
// cannot make its reader do unbounded work.

/** Default traversal budget in words: 8 MiB of reads, far above any capos message. */
export const DEFAULT_TRAVERSAL_LIMIT_WORDS: u64 = 1 << 20;
/** Default maximum pointer depth below the root struct. */
export const DEFAULT_NESTING_LIMIT: i32 = 64;
/** The most segments a message may declare. */
export const MAX_SEGMENTS: u32 = 512;
