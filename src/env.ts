import dotenv from 'dotenv';

/** Loads `.env` (if present) without dotenv's tips on stdout; natural loads dotenv too, so quiet it globally. */
export function loadEnvFile(path = '.env'): void {
  process.env.DOTENV_CONFIG_QUIET ??= 'true';
  dotenv.config({ path, quiet: true });
}
