/**
 * Reads a CloudFormation YAML template as CloudFormation does: each short-form intrinsic tag (`!Ref`, `!Sub`,
 * `!GetAtt`, `!If`…) becomes its long form (`{ Ref }`, `{ 'Fn::Sub' }`…), so the result is the same JSON that
 * CloudFormation evaluates and that test/support/intrinsics.ts resolves.
 */
import { readFileSync } from 'node:fs';
import { type CollectionTag, parse, type ScalarTag, type Tags, type YAMLMap, type YAMLSeq } from 'yaml';
import type { CfnTemplate } from './packaged-stack';

const FUNCTIONS = [
  'And',
  'Base64',
  'Cidr',
  'Equals',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'Or',
  'Select',
  'Split',
  'Sub',
  'Transform',
];

/** `!GetAtt A.B` is the one short form whose scalar is not the long form's argument as is. */
const longForm = (name: string, argument: unknown): Record<string, unknown> => {
  if (name === 'Ref' || name === 'Condition') return { [name]: argument };
  if (name === 'GetAtt' && typeof argument === 'string') {
    const dot = argument.indexOf('.');
    return { 'Fn::GetAtt': [argument.slice(0, dot), argument.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: argument };
};

const cloudFormationTags: Tags = ['Ref', 'Condition', ...FUNCTIONS].flatMap((name) => [
  { tag: `!${name}`, resolve: (value: string) => longForm(name, value) } satisfies ScalarTag,
  {
    tag: `!${name}`,
    collection: 'seq',
    resolve: (value: YAMLSeq.Parsed | YAMLMap.Parsed) => longForm(name, value.toJSON()),
  } satisfies CollectionTag,
  {
    tag: `!${name}`,
    collection: 'map',
    resolve: (value: YAMLSeq.Parsed | YAMLMap.Parsed) => longForm(name, value.toJSON()),
  } satisfies CollectionTag,
]);

export function parseCloudFormationYaml(text: string): CfnTemplate {
  return parse(text, { customTags: cloudFormationTags, merge: false, uniqueKeys: true }) as CfnTemplate;
}

export function readCloudFormationYaml(path: string): CfnTemplate {
  return parseCloudFormationYaml(readFileSync(path, 'utf8'));
}
