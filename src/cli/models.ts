/** `moe models`: placeholder until its issue lands. */
export async function run(_args: string[]): Promise<number> {
  console.error('moe models: not implemented yet');
  return 1;
}
