/**
 * Catching typed errors in tests: the one a call must throw (for its fields), and "throws nothing
 * but this kind" for fuzzing. Any other error is a failure, never swallowed.
 */
import { expect } from 'vitest';

type ErrorClass<E> = abstract new (...args: never[]) => E;

/** The error of class `type` that `f` throws; another error is rethrown, and no error fails. */
export function thrown<E>(type: ErrorClass<E>, f: () => unknown): E {
  try {
    f();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}

/**
 * `run` returns, or throws an error of class `type` (whose fields match `want`, when given): what a
 * parser may do with arbitrary bytes.
 */
export function expectThrowsOnly<E>(type: ErrorClass<E>, run: () => unknown, want?: Partial<E>): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    if (want !== undefined) expect(e).toMatchObject(want);
  }
}
