// Text chaton did not write (the inventory's keys and values, a parser's quote of them) shown to
// the operator: a hostile or damaged file must not drive the terminal or fake a line of output.

/**
 * Control characters (C0, DEL, C1: terminal escapes, line breaks), format characters (bidi
 * overrides, zero-width), line and paragraph separators, and lone surrogates.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
/** What private key files hold: OpenSSH, PEM (RSA, EC, DSA, PKCS#8) and PuTTY. Never shown, wherever found. */
export const PRIVATE_KEY = /PRIVATE KEY|PuTTY-User-Key-File/;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Whether escapeUnprintable() would change the text. */
export function hasUnprintable(text: string): boolean {
  return text.search(UNPRINTABLE) >= 0;
}

/** The text with each unprintable character written as YAML escapes it: \n, \x1b, \u202e. */
export function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE, (found) => NAMED_ESCAPES[found] ?? codeEscape(found.codePointAt(0) ?? 0));
}

/** The text in double quotes, escaped: what YAML reads back from `"..."` is the text itself. */
export function quoted(text: string): string {
  return `"${escapeUnprintable(text.replace(/["\\]/g, '\\$&'))}"`;
}

function codeEscape(code: number): string {
  const hex = (digits: number) => code.toString(16).padStart(digits, '0');
  if (code <= 0xff) return `\\x${hex(2)}`;
  return code <= 0xffff ? `\\u${hex(4)}` : `\\U${hex(8)}`;
}
