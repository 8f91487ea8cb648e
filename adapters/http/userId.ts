/**
 * The user id HTTP callers give (`userId` of /predict and /feedback, `user` of /v1): one rule for all three, so an id
 * /v1 took can vote. Ids like emails, hashes and platform ids pass; whitespace, control characters, < > and broken
 * Unicode (a lone surrogate) do not.
 */
export const USER_ID_MAX_CHARS = 256;
// With the u flag a lone UTF-16 surrogate is its own code point (SQLite would store it as invalid UTF-8); pairs (emoji) pass.
export const USER_ID_PATTERN = '^[^\\s<>\\u0000-\\u001f\\u007f\\ud800-\\udfff]+$';
/** The rule in words, for error messages (the schema's regular expression is no help to a caller). */
export const USER_ID_RULE = `an id of 1 to ${USER_ID_MAX_CHARS} characters without spaces, control characters, < > or lone surrogates`;
export const userIdSchema = { type: 'string', minLength: 1, maxLength: USER_ID_MAX_CHARS, pattern: USER_ID_PATTERN } as const;

const USER_ID = new RegExp(USER_ID_PATTERN, 'u');

/** Whether `value` is a user id these endpoints accept. */
export function isUserId(value: string): boolean {
  return value.length <= USER_ID_MAX_CHARS && USER_ID.test(value);
}
