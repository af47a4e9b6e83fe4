/** Figures a test measured, carried back to the harness with the results (console output of the extension host is not). */
export const suiteNotes: string[] = [];
