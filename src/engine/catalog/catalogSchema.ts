import Ajv from 'ajv';
import schema from '../../../schemas/models.schema.json';

/**
 * The catalog schema's validator. Compiled here when run from source (tests); the bundles replace this
 * module with the same validator compiled ahead of time by ajv's standalone code (esbuild.mjs), so the
 * CLI and the extension do not load and compile ajv at every start.
 */
export const validateCatalogSchema = new Ajv({ allErrors: true, strict: false }).compile(schema);
