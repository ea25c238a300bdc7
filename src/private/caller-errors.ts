/**
 * Our errors as a caller in another language sees them.
 *
 * Under jsii (a Python or Java app; the host runtime sets JSII_AGENT), an error thrown from
 * a constructor reaches the kernel unclassified: Java then raises it as a jsii fault
 * (`software.amazon.jsii.JsiiError`, documented as a nonrecoverable runtime error) and
 * appends the JavaScript stack to the message, frames inside the kernel's temporary copy
 * of this package that tell a Java user nothing. Our messages already name the construct,
 * the value and the fix, so under jsii the error leaves as what the kernel calls an error of
 * the library (`@jsii/kernel.RuntimeError`: java.lang.RuntimeException in Java,
 * RuntimeError in Python) and without the stack (Python would chain it as the exception's
 * cause). JSII_DEBUG keeps the stack. TypeScript callers get the
 * error untouched.
 */
export function forCaller(error: unknown): unknown {
  if (!process.env.JSII_AGENT || process.env.JSII_DEBUG || !(error instanceof Error)) return error;
  error.name = '@jsii/kernel.RuntimeError';
  // Java appends any stack it is sent after a newline, so it gets none; the Python runtime
  // requires the field, so it gets an empty one.
  const stack = process.env.JSII_AGENT.startsWith('Java/') ? undefined : '';
  Object.defineProperty(error, 'stack', { value: stack, configurable: true, writable: true });
  return error;
}
