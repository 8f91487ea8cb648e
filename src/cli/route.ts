/** `moe route`: placeholder until its issue lands. */
export async function run(_args: string[]): Promise<number> {
  console.error('moe route: not implemented yet');
  return 1;
}
