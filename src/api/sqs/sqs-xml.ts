/**
 * Minimal XML text building for SQS query responses: escaping of text
 * content and one element helper. No parser, no attributes beyond the
 * caller's literal start tags.
 */

/**
 * Characters XML 1.0 does not allow at all (C0 controls other than tab,
 * newline and carriage return; U+FFFE, U+FFFF; lone surrogates). SQS refuses
 * them in message bodies; if one reaches the encoder anyway it becomes
 * U+FFFD rather than a document no client can parse.
 */
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#xD;',
};

/**
 * Escapes text for element content: the five XML entities, carriage return
 * as `&#xD;` (a literal one would be normalised to a newline by parsers),
 * characters XML cannot hold as U+FFFD. Tabs and newlines stay literal.
 */
export function escapeXml(text: string): string {
  return text.replace(NOT_XML_CHAR, '\uFFFD').replace(/[&<>"'\r]/g, (c) => ESCAPES[c] ?? c);
}

/** `<name>escaped text</name>`. */
export function textElement(name: string, text: string): string {
  return `<${name}>${escapeXml(text)}</${name}>`;
}
