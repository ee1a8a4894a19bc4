/**
 * The slice of bible-passage-reference-parser (English CommonJS build) that references.ts uses. The package
 * ships types only for its ESM entry, which jest's CommonJS runtime cannot load; so the CommonJS build is
 * declared here, and everything it answers is `unknown` until references.ts has checked its shape.
 */
declare module 'bible-passage-reference-parser/cjs/en_bcv_parser.js' {
  /** The options we set (the parser's Readme, "Options"); values outside these unions are not used. */
  export interface BcvParserOptions {
    osis_compaction_strategy?: 'b' | 'bc' | 'bcv';
    book_alone_strategy?: 'ignore' | 'full' | 'first_chapter';
    book_sequence_strategy?: 'ignore' | 'include';
    book_range_strategy?: 'ignore' | 'include';
    captive_end_digits_strategy?: 'delete' | 'include';
    consecutive_combination_strategy?: 'combine' | 'separate';
    end_range_digits_strategy?: 'verse' | 'sequence';
    invalid_passage_strategy?: 'ignore' | 'include';
    invalid_sequence_strategy?: 'ignore' | 'include';
    passage_existence_strategy?: 'b' | 'bc' | 'bcv' | 'bv' | 'c' | 'cv' | 'v' | 'none';
    sequence_combination_strategy?: 'combine' | 'separate';
    single_chapter_1_strategy?: 'chapter' | 'verse';
    testaments?: 'on' | 'o' | 'n';
    versification_system?: string;
    zero_chapter_strategy?: 'error' | 'upgrade';
    zero_verse_strategy?: 'error' | 'upgrade' | 'allow';
    warn_level?: 'none' | 'warn';
  }

  export class bcv_parser {
    constructor();
    set_options(options: BcvParserOptions): this;
    parse(text: string): this;
    /** Untyped on purpose: references.ts reads it through a checking reader. */
    parsed_entities(): unknown;
    /** `{ books, chapters: { Gen: [31, 25, ...] }, order }` of a versification system; read by tests. */
    translation_info(system?: string): unknown;
  }
}
