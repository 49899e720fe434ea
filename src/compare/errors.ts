/**
 * Bad input to a comparison — a folder that is missing or is not what it should be, a capture file
 * that cannot be read, a known-differences file that does not parse. The message names the path
 * and what is wrong, in one line; the command prints it and exits 2 (DESIGN.md, "Errors").
 */
export class CompareInputError extends Error {
  override readonly name = 'CompareInputError';
}
