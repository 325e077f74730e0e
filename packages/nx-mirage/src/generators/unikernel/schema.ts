import { z } from 'zod';
import { MIRAGE_TARGETS } from '../../domain';

export const TEMPLATES = ['hello', 'network', 'website'] as const;

export const schema = z
  .strictObject({
    name: z
      .string({ error: 'is required: the unikernel name, for example "hello"' })
      .regex(/^[a-z][a-z0-9_-]*$/, {
        error: (i) => `${JSON.stringify(i.input)} is not an opam-safe name: use lowercase letters, digits, "-" and "_", starting with a letter`,
      })
      .meta({ description: 'The unikernel name (register "NAME" in config.ml), also the Nx project name', $default: { $source: 'argv', index: 0 }, 'x-prompt': 'What name would you like to use for the unikernel?' }),
    directory: z
      .string()
      .optional()
      .meta({ description: 'Directory of the unikernel, relative to the workspace root (default: apps/NAME)', 'x-prompt': 'Which directory should the unikernel go in? (default: apps/NAME)' }),
    template: z
      .enum(TEMPLATES, { error: `must be one of ${TEMPLATES.join(', ')}` })
      .default('hello')
      .meta({
        description: 'hello: timer and logs; network: TCP echo server; website: serves the build output of another Nx project',
        'x-prompt': {
          message: 'Which unikernel template would you like to use?',
          type: 'list',
          items: [
            { value: 'hello', label: 'hello   — a timer and logs' },
            { value: 'network', label: 'network — a TCP/IP stack echo server' },
            { value: 'website', label: 'website — serves the build output of another Nx project over HTTP' },
          ],
        },
      }),
    target: z
      .enum(MIRAGE_TARGETS, { error: `must be a mirage target, one of ${MIRAGE_TARGETS.join(', ')}` })
      .optional()
      .describe('The mirage target of this unikernel (default: the plugin option "target", hvt)'),
    serve: z.string().optional().describe('website: the Nx project whose build output the unikernel serves'),
    dataDir: z.string().optional().describe('website: the directory to serve, relative to the workspace root (default: where the served project builds)'),
    port: z.number({ error: 'must be a TCP port number' }).int().min(1).max(65535, { error: 'must be a TCP port number (1-65535)' }).default(8080).describe('network, website: the default TCP port (a runtime argument)'),
    overwrite: z.boolean().default(false).describe('Replace an existing unikernel in the directory'),
    skipFormat: z.boolean().default(false).describe('Skip formatting files'),
  })
  .describe('Generate a MirageOS unikernel (config.ml and unikernel.ml, mirage 4.11 API)');

export type UnikernelOptions = z.input<typeof schema>;
