// natural's index pulls in mongoose/pg/redis (~0.9 s); we import only the leaf modules we use.
declare module 'natural/lib/natural/tokenizers/regexp_tokenizer.js' {
  export class RegexpTokenizer {
    constructor(options: { pattern: RegExp; gaps?: boolean });
    tokenize(text: string): string[];
  }
  const tokenizers: { RegexpTokenizer: typeof RegexpTokenizer };
  export default tokenizers;
}
declare module 'natural/lib/natural/stemmers/porter_stemmer.js' {
  const PorterStemmer: { stem(token: string): string };
  export default PorterStemmer;
}
declare module 'natural/lib/natural/classifiers/bayes_classifier.js' {
  class BayesClassifier {
    addDocument(text: string, classification: string): void;
    train(): void;
    classify(text: string): string;
  }
  export default BayesClassifier;
}
