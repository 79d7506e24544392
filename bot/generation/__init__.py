"""Generated answers through an OpenAI-compatible chat-completions server, checked before anyone sees them.

The extractive answer (`Assistant.ask`) stays the default and the fallback. When `LLM_BASE_URL` is
set, `AnswerGenerator` asks the model to write an answer from the retrieved passages only
(the numbered `Answer.sources`), then checks every sentence before it is shown:

* every citation `[n]` must be the number of a passage that was given; a sentence citing any other
  number, or citing nothing, is dropped;
* a sentence of fewer than `MIN_WORDS` words, or one that talks about instructions or prompts
  (an echoed "ignora las instrucciones…") or repeats a run of the prompts' words, is dropped;
* the figures of a sentence (numbers, decimals, percentages; "297 961" == "297,961" == "297.961")
  and its proper names (acronyms such as UGEL, DRE, IIEE and capitalised words such as Nasca,
  Pasco, Mi Oportunidad Técnica; case- and accent-insensitive) must appear in the passage(s) it
  cites (text, practice, offices, region or section), otherwise it is dropped;
* if nothing survives, or less than `MIN_KEPT_RATIO` of the sentences survive, or the model errors
  or runs past `LLM_TIMEOUT_S` (the budget for the whole generation), the extractive answer is
  returned unchanged.

The package, by concern: `prompts` (the chat messages), `verify` (the checks of one sentence), `segment`
(splitting the reply into sentences and assembling what is shown), `client` (`AnswerGenerator`, the model's
server) and `events` (`GenerationEvent`, `throttled`, `sse`).

Public API (`from bot.generation.client import AnswerGenerator`)::

    gen = AnswerGenerator.from_settings(settings)    # None when LLM_BASE_URL is unset
    answer = await gen.generate(question, extractive)  # Answer, mode "generated" or the extractive one
    async for event in gen.stream(question, extractive):
        if event.type == "delta":   # checked text to append to what is shown
            ...
        else:                       # event.type == "final": event.answer replaces what was shown
            ...

Streaming shows the answer as it is written, but sentence by sentence: a `delta` event carries one
complete sentence (with its separator: " ", "\\n- " or "\\n\\n") once it has been checked, so
nothing unchecked ever reaches a user. Citations are written as in the extractive answer:
"Sentence. [1][2]". `throttled()` coalesces the events for a display that may change at most once
a second (Telegram message edits); `events.sse` serialises them for a web page. The last event is
always `final`; its `answer` is the checked generated `Answer` (whose `answer` text is exactly the
concatenated deltas) or, on fallback, the extractive `Answer`, which the caller shows instead of
the deltas.

The prompts are files in the repository's `prompts/` folder (`system.md`, `answer_template.md`,
`passage.md`), read at start-up; `BPGE_PROMPTS_DIR` points elsewhere.
"""
