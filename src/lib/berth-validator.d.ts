// The build's precompiled validators (scripts/bundle.mjs; precompiled-validators.ts). From source
// they resolve to test/helpers/no-precompiled-validator.ts, which has none.
declare module 'berth:validator/*' {
  export const validate: import('ajv').ValidateFunction | undefined;
  export const schema: object | undefined;
}
