// Types of what TypeScript code (test/wire/facts.test.ts) imports from the .proto reader.
export interface ProtoMessage {
  name: string;
  fields: { name: string; number: number }[];
}
/** Parses proto/sitempi.proto: messages and their field numbers, in file order. */
export function parseProto(text: string): ProtoMessage[];
export function wireFieldsHeader(messages: ProtoMessage[]): string;
export function wireFieldsTs(messages: ProtoMessage[]): string;
