/** `moe start`: placeholder until its issue lands. */
export async function run(_args: string[]): Promise<number> {
  console.error('moe start: not implemented yet');
  return 1;
}
