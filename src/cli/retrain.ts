/** `moe retrain`: placeholder until its issue lands. */
export async function run(_args: string[]): Promise<number> {
  console.error('moe retrain: not implemented yet');
  return 1;
}
