/**
 * The template chosen for this process (or the wizard's engine worker): set from `--target-schema`
 * (or the wizard's choice) and read by `currentTarget`; a plain value, handed to a worker in its
 * workerData, never carried in the environment (a child process must not inherit it).
 */
export interface ChosenTarget {
  kind: "vox" | "file";
  path: string;
  voxVersion?: string | null;
}
let chosen: ChosenTarget | null = null;

/** Sets the template in force (null: the bundled baseline). */
export function setTarget(t: ChosenTarget | null): void {
  chosen = t;
}

/** The template in force, as a value to hand to a worker. */
export function chosenTarget(): ChosenTarget | null {
  return chosen;
}
