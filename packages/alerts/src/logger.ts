/**
 * The part of a logger this package uses. Structurally the same as the engine's
 * `Logger`, so one can be passed straight in without this package depending on
 * the engine.
 */
export interface AlertsLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
