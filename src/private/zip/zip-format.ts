/** The zip records the engine writes (zip-writer.ts) and reads back (zip-index.ts). */

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
export const FLAG_UTF8 = 0x0800;
export const METHOD_STORE = 0;
export const METHOD_DEFLATE = 8;
export const UNIX_HOST = 3;
export const VERSION_DEFAULT = 20;
/** "Version made by" of every central record the engine writes: Unix, zip 2.0. */
export const MADE_BY = (UNIX_HOST << 8) | VERSION_DEFAULT;
