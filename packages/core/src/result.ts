/**
 * Errors are values in the core: every fallible function returns a `Result`.
 * A tiny local type rather than fp-ts `Either` keeps core dependency-free. It is
 * not an `Either` (whose cases are `Left`/`Right` with `left`/`right`): code that
 * composes with fp-ts converts at its edge, e.g. `isOk(r) ? E.right(r.value) : E.left(r.error)`.
 */
export type Result<E, A> = Ok<A> | Err<E>;

export interface Ok<A> {
  readonly _tag: 'Ok';
  readonly value: A;
}

export interface Err<E> {
  readonly _tag: 'Err';
  readonly error: E;
}

export const ok = <A>(value: A): Ok<A> => ({ _tag: 'Ok', value });
export const err = <E>(error: E): Err<E> => ({ _tag: 'Err', error });

export const isOk = <E, A>(r: Result<E, A>): r is Ok<A> => r._tag === 'Ok';
export const isErr = <E, A>(r: Result<E, A>): r is Err<E> => r._tag === 'Err';
