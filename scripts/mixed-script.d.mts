/** At most `bytes` UTF-8 bytes of generated mixed-script (or, with `latin`, pseudo-English) text from `seed`. */
export function mixedScript(bytes: number, seed?: number, latin?: boolean): string;
