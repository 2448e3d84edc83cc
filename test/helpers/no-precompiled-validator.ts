// What `berth:validator/NAME` resolves to when berth runs from source (vitest.config.ts): no
// validator compiled at build time, so the schema is compiled at run time (src/lib/precompiled-validators.ts).
import type { ValidateFunction } from 'ajv';

export const validate: ValidateFunction | undefined = undefined;
export const schema: object | undefined = undefined;
