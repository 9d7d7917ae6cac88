// Prints, as JSON, how many tokens each string of the JSON array on stdin costs in a real BPE
// encoding (the npm package gpt-tokenizer, which ships its vocabularies: nothing is downloaded).
// Usage: node tests/count_tokens.cjs [ENCODING] < strings.json   (ENCODING: o200k_base, the default)
const encoding = process.argv[2] || "o200k_base";
const { encode } = require(`gpt-tokenizer/encoding/${encoding}`);
const texts = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(texts.map((text) => encode(text).length)) + "\n");
