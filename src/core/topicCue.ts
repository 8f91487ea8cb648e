/**
 * How a chat message relates to the conversation before it, from its wording alone: it announces a new topic
 * (`marked`: "unrelated, …", "btw …", "back to …", "totally random, …"), it leans on what came before (`continuation`:
 * "and for kids?", "what about …", "i mean …", a short message with "it"/"that"), or neither (`plain`). The follow-up rule asks for more
 * confidence before leaving the conversation's expert on a continuation, and less on a marked change.
 */
export type TopicCue = 'marked' | 'continuation' | 'plain';

/** Phrases that announce a new topic wherever they appear. */
const MARKERS = /\b(?:unrelated|off[- ]?topic|different (?:question|topic|subject)|another question|switching (?:topics?|gears|subjects?)|chang(?:e|ing) (?:of )?(?:the )?(?:subject|topic)|new (?:question|topic)|btw|by the way|separate (?:thing|question)|nvm|never ?mind|forget (?:it|that|about (?:it|that))|speaking of|on another note|side ?note)\b/;
/** Words that announce a new topic only at the start of a message ("also …", "anyway …", "back to the …", "random q, …"). */
const OPENING_MARKERS = /^(?:(?:ok(?:ay)?|so|sorry|lol|haha|oh|hey|cool|thanks|thx|ugh|and|but)[\s,.!]+)*(?:(?:also|any ?ways?|back to|something else|totally different|different thing|one more thing|other question)\b|(?:(?:totally|completely|kinda|somewhat|slightly|super)\s+)?random(?:ly)?\s*(?:[,:!-]|(?:but|question|q|thought|thing)\b))/;
const OPENERS = /^(?:(?:ok(?:ay)?|hmm+|oh|ah|right|yeah|yes|no|and|so|but|or|then|wait)[\s,.!]+)*(?:and|or|but|so|then|what about|how about|what if|same|even|plus|is that|does it|does that|do they|i mean|i meant)\b/;
const BACK_REFERENCE = /\b(?:it|that|this|those|these|them|they|there|one|ones|he|she|him|her|mine)\b/;
/** A message this short with a back-reference reads as a continuation. */
const SHORT_WITH_REFERENCE = 8;
/** A message this short reads as a continuation whatever it says. */
const VERY_SHORT = 5;

export function topicCue(text: string): TopicCue {
  const t = text.toLowerCase();
  if (MARKERS.test(t) || OPENING_MARKERS.test(t)) return 'marked';
  if (OPENERS.test(t)) return 'continuation';
  const words = countWords(t);
  if (words <= VERY_SHORT || (words <= SHORT_WITH_REFERENCE && BACK_REFERENCE.test(t))) return 'continuation';
  return 'plain';
}

/** Words separated by white space. */
export function countWords(t: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < t.length; i++) {
    const space = t.charCodeAt(i) <= 32;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}
