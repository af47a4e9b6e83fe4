// Types for the tests that serve the demo models (test/workbench): the script itself stays plain JS for npm start.
import type { Server } from 'node:http';

export const DEMO_TOKEN: string;
export const DEMO_FILES: readonly { readonly name: string; readonly size: number }[];
export function ensureDemoFiles(dir: string): Promise<{ name: string; size: number; sha256: string }[]>;
export function startDemoServer(dir: string, options?: { port?: number; bytesPerSecond?: number }): Promise<Server>;
