/**
 * What executors print. Nx captures a task's stdout and stderr as its terminal output; printing through
 * this instead of @nx/devkit's logger keeps a task process from loading @nx/devkit and the Nx modules
 * behind it (about 55 ms of every task's start) only to write lines. Errors and warnings are styled as Nx
 * styles them, when the stream takes colours.
 */
import { styleText } from 'node:util';

export const logger = {
  info: (message: string) => console.info(message),
  warn: (message: string) => console.warn(styleText(['bold', 'yellow'], message)),
  error: (message: string) => console.error(styleText(['bold', 'red'], message)),
};
