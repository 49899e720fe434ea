/**
 * An error in what the user gave (a flag, a file): printed as one line, exit status 2, no stack.
 * Anything else that escapes a command is a bug and keeps its stack trace.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}
