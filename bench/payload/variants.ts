/** The payload benchmark's variants (each runs in a process of its own, see variant.ts). */
export const PAYLOAD_VARIANTS = [
  'undici-download',
  'flowpool-stream',
  'undici-save',
  'flowpool-saveTo',
  'undici-upload',
  'flowpool-upload',
] as const;
export type PayloadVariant = (typeof PAYLOAD_VARIANTS)[number];
