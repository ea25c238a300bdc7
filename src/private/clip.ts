/**
 * A value from user input for an error message: JSON-quoted, and cut to `max` characters
 * with its full length said, so a hostile 50 MB line gives a short message.
 */
export function clipped(value: string, max = 200): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}... (${value.length.toLocaleString('en-US')} characters)`;
}
