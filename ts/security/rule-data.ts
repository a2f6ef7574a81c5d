/**
 * The phrase rules as data: what each rule matches, its threat type and weight.
 * `rules.ts` compiles them; the scanner never reads this file directly.
 *
 * Pattern mini-language (skeleton rules), expanded by `compile` in `rules.ts`:
 * - a space between literals is optional (`ignore previous` also matches
 *   `ignoreprevious`, which is what `i g n o r e p r e v i o u s` folds to);
 * - `<` / `>` assert a word start / end;
 * - `~N` skips up to N whole words (`(?: [^ ]{1,20}){0,N}`);
 * - a literal `l` also matches `i` (leetspeak `1` folds to `i`).
 * Every quantifier is bounded, so a rule costs O(pattern) per position and a
 * scan stays linear in the input.
 *
 * Weights are the confidence of a hit on its own; the scanner combines hits
 * (see `scanner.ts`). Strong rules (an imperative aimed at the model's
 * instructions) sit near 0.9; words that are only suspicious next to others
 * (`developer mode`, `no restrictions`, a `system:` line) stay well below the
 * default threshold.
 */
import type { ThreatType } from './types.js';

/** One phrase rule as written (see the pattern mini-language above). */
export interface RuleDef {
  id: string;
  type: ThreatType;
  weight: number;
  pattern: string;
  view?: 'skeleton' | 'raw';
  stems?: readonly string[];
  negatable?: boolean;
  questionable?: boolean;
  before?: { re: RegExp; weight: number };
  sentenceStart?: number;
}

/** Alternation of literals. */
const alt = (...words: string[]): string => `(?:${words.join('|')})`;

// ---------------------------------------------------------------- vocabulary (English)

const IGNORE = alt(
  'ignor(?:e|es|ed|ing)',
  'disregard(?:s|ed|ing)?',
  'forget(?:ting)?',
  'forgot',
  'overrid(?:e|ing)',
  'overwrite',
  'bypass',
  'discard',
  'dismiss',
  'neglect',
  'abandon',
  'skip',
  'drop',
  'scrap',
  'erase',
  'delete',
  'wipe',
  'throw away',
  'set aside',
  'put aside',
  'pay no attention to',
  'pay no heed to',
  'do not (?:follow|obey|listen to|adhere to|comply with)',
  'dont (?:follow|obey|listen to|adhere to|comply with)',
  'stop (?:following|obeying)',
  'no longer (?:follow|obey)',
  'never mind',
  'nevermind',
  'cancel',
  'revoke',
  'unlearn',
);
const PRIOR = alt(
  'previous(?:ly)?',
  'prior',
  'above',
  'preceding',
  'earlier',
  'former',
  'original',
  'initial',
  'old',
  'existing',
  'system',
  'developer',
  'default',
  'foregoing',
  'aforementioned',
  'past',
  'given',
  'programmed',
  'built in',
  'preset',
  'safety',
  'openai',
  'anthropic',
  'first',
  'earlier',
);
const DIRECTIVES = alt(
  'instructions?',
  'prompts?',
  'directions?',
  'directives?',
  'rules?',
  'guidelines?',
  'commands?',
  'orders?',
  'constraints?',
  'programming',
  'guidance',
  'system prompt',
  'system message',
  'restrictions?',
  'policies',
  'policy',
  'configuration',
  'training',
  'mandates?',
  'protocols?',
);
const SOFT_OBJECTS = alt(
  'messages?',
  'text',
  'input',
  'content',
  'conversation',
  'context',
  'emails?',
  'tasks?',
  'requests?',
);
const AI = alt(
  'ai',
  'assistant',
  'llm',
  'chatbot',
  'bot',
  'language model',
  'model',
  'gpt',
  'chatgpt',
  'claude',
  'gemini',
  'agent',
  'copilot',
);

// ---------------------------------------------------------------- rules

export const RULE_DEFS: readonly RuleDef[] = [
  // ------------------------------------------------ prompt injection (English)
  {
    id: 'injection.ignore-previous',
    type: 'PROMPT_INJECTION',
    weight: 0.9,
    pattern: `<${IGNORE}~3 ${PRIOR}~1 ${DIRECTIVES}`,
    negatable: true,
  },
  {
    id: 'injection.ignore-instructions-above',
    type: 'PROMPT_INJECTION',
    weight: 0.86,
    pattern: `<${IGNORE}~2 ${DIRECTIVES} ${alt('above', 'before this', 'so far', 'given (?:to you|earlier|before|above)', 'you (?:were|have been) given', 'you received', 'from before', 'preceding this', 'up to now')}`,
    negatable: true,
  },
  {
    id: 'injection.ignore-user',
    type: 'PROMPT_INJECTION',
    weight: 0.72,
    pattern: `<${IGNORE} ${alt('the', 'your', 'any')} ${alt('users?', 'users s', 'human s', 'humans', 'customers?', 'customers s', 'original')} ${alt('request', 'question', 'instructions?', 'query', 'message', 'task', 'prompt')}`,
    negatable: true,
  },
  {
    id: 'injection.while-processing',
    type: 'PROMPT_INJECTION',
    weight: 0.5,
    pattern: `<${alt('when', 'while', 'if', 'before', 'after')} ${alt('you are ', 'youre ', 'you re ', '')}${alt('summarizing', 'summarising', 'reading', 'processing', 'translating', 'analyzing', 'analysing', 'reviewing', 'parsing')} this ${alt('document', 'page', 'email', 'e mail', 'text', 'file', 'website', 'message', 'article', 'content', 'webpage')}`,
  },
  {
    id: 'injection.ignore-your-instructions',
    type: 'PROMPT_INJECTION',
    weight: 0.82,
    pattern: `<${IGNORE}~2 ${alt('your', 'its', 'all')} ${alt('instructions?', 'rules', 'guidelines', 'programming', 'directives', 'system prompt', 'prompt', 'constraints', 'training')}>`,
    negatable: true,
  },
  {
    id: 'injection.ignore-the-instructions',
    type: 'PROMPT_INJECTION',
    weight: 0.55,
    pattern: `<${IGNORE} ${alt('the', 'any', 'these', 'those', 'all the', 'all of the', 'all')} ${alt('instructions?', 'rules', 'guidelines', 'directives')}>`,
    negatable: true,
  },
  {
    id: 'injection.ignore-previous-messages',
    type: 'PROMPT_INJECTION',
    weight: 0.5,
    pattern: `<${IGNORE}~3 ${PRIOR}~1 ${SOFT_OBJECTS}>`,
    negatable: true,
  },
  {
    id: 'injection.forget-everything',
    type: 'PROMPT_INJECTION',
    weight: 0.72,
    pattern: `<${IGNORE} ${alt('everything', 'all', 'anything', 'whatever')}~1 ${alt('above', 'before', 'previously', 'prior', 'so far', 'up to now', 'until now', 'that came before')}`,
    negatable: true,
  },
  {
    id: 'injection.forget-what-you-were-told',
    type: 'PROMPT_INJECTION',
    weight: 0.86,
    pattern: `<${IGNORE} ${alt('everything', 'all', 'anything', 'whatever', 'all of what', 'what')} ${alt('you (?:were|have been|ve been) (?:told|taught|instructed|programmed|given)', 'you know about your (?:rules|instructions)', 'your (?:creators?|developers?) (?:told|taught) you')}`,
    negatable: true,
  },
  {
    id: 'injection.instructions-void',
    type: 'PROMPT_INJECTION',
    weight: 0.85,
    pattern: `<${alt(`${PRIOR}~1 ${DIRECTIVES}`, `${DIRECTIVES} ${alt('above', 'before this', 'you were given', 'you received', 'so far')}`)} ${alt('are', 'is', 'have been', 'has been', 'were')} ${alt('now ', 'hereby ', 'all ', '')}${alt('void', 'null', 'cancell?ed', 'obsolete', 'outdated', 'superseded', 'replaced', 'invalid', 'overridden', 'revoked', 'deprecated', 'suspended', 'lifted', 'fake', 'wrong', 'false', 'no longer (?:valid|apply|applicable|in effect|relevant)')}`,
  },
  {
    id: 'injection.new-instructions',
    type: 'PROMPT_INJECTION',
    weight: 0.45,
    pattern: `<${alt('new', 'updated', 'real', 'actual', 'true', 'revised', 'overriding', 'secret', 'hidden', 'priority', 'urgent', 'additional')} ${alt('system ', '')}${alt('instructions?', 'directives?', 'orders', 'system prompt', 'objective', 'mission', 'commands?')}>`,
  },
  {
    id: 'injection.from-now-on',
    type: 'PROMPT_INJECTION',
    weight: 0.4,
    pattern: `<${alt('from now on', 'from this point (?:on|forward)', 'starting now', 'henceforth', 'for the rest of this conversation')} ${alt('you', 'your')}`,
  },
  {
    id: 'injection.you-are-now',
    type: 'PROMPT_INJECTION',
    weight: 0.5,
    pattern: `<${alt('you are', 'youre', 'you re', 'you will be')} now ${alt('a', 'an', 'the', 'my', 'in', 'no longer', 'free', 'called', 'named', 'going to', 'dan', 'acting')}>`,
  },
  {
    id: 'injection.override-instructions',
    type: 'PROMPT_INJECTION',
    weight: 0.82,
    pattern: `<${alt(`${alt('override', 'overwrite', 'replace', 'reset', 'rewrite', 'reprogram', 'update', 'change', 'modify')} ${alt('your', 'your current', 'your original')} ${alt('system prompt', 'system message', 'instructions', 'programming', 'core directives?', 'directives', 'guidelines', 'rules', 'prime directive')}`, `${alt('override', 'overwrite', 'reprogram')} ${alt('the', 'all', 'any')} ${alt('system prompt', 'system message', 'previous instructions', 'programming', 'core directives?', 'prime directive', 'instructions')}`)}>`,
    negatable: true,
  },
  {
    id: 'injection.authority-claim',
    type: 'PROMPT_INJECTION',
    weight: 0.5,
    pattern: `<${alt('i am', 'im', 'this is', 'speaking as', 'as')} ${alt('your', 'the', 'an', 'a')} ${alt('openai', 'anthropic', 'system', 'lead', 'senior', 'real', 'true', '')} ?${alt('developers?', 'creators?', 'administrator', 'admin', 'owner', 'operator', 'programmer', 'system administrator', 'maker')}>`,
  },
  {
    id: 'injection.admin-override',
    type: 'PROMPT_INJECTION',
    weight: 0.55,
    pattern: `<${alt('admin', 'administrator', 'system', 'root', 'sudo', 'maintenance', 'debug', 'emergency', 'security', 'priority', 'developer')} ${alt('override', 'overide', 'command', 'access granted', 'authorization code', 'privileges granted', 'instruction')}>`,
  },
  {
    id: 'injection.note-to-ai',
    type: 'PROMPT_INJECTION',
    weight: 0.6,
    pattern: `<${alt('note', 'message', 'instructions?', 'attention', 'important', 'reminder', 'hidden instructions?')} ${alt('to', 'for')} ${alt('the ', 'any ', 'all ', '')}${AI}s?>`,
  },
  {
    id: 'injection.if-you-are-ai',
    type: 'PROMPT_INJECTION',
    weight: 0.6,
    pattern: `<${alt('if you are', 'if youre', 'if you re', 'when you are', 'as')} ${alt('an? ', 'the ', '')}${AI} ${alt('reading', 'processing', 'summarizing', 'summarising', 'parsing', 'analyzing', 'analysing', 'seeing', 'reviewing')}`,
  },
  {
    id: 'injection.ai-reading-this',
    type: 'PROMPT_INJECTION',
    weight: 0.55,
    pattern: `<${AI}s? ${alt('reading', 'processing', 'summarizing', 'summarising', 'parsing', 'analyzing', 'analysing', 'reviewing')} this`,
  },
  {
    id: 'injection.output-hijack',
    type: 'PROMPT_INJECTION',
    weight: 0.62,
    pattern: `<${alt('say', 'print', 'output', 'respond', 'reply', 'write', 'type', 'answer', 'return')}~2 ${alt('i have been pwned', 'i ve been pwned', 'ive been pwned', 'pwned', 'i have been hacked', 'hacked', 'access granted')}>`,
  },
  {
    id: 'injection.stop-task',
    type: 'PROMPT_INJECTION',
    weight: 0.45,
    pattern: `<${alt('stop', 'abort', 'halt', 'cease', 'terminate', 'end')} ${alt('what you are doing', 'what youre doing', 'your current task', 'the current task', 'all previous tasks', 'your task', 'summarizing', 'translating')}>`,
  },
  {
    id: 'injection.end-of-prompt',
    type: 'PROMPT_INJECTION',
    weight: 0.6,
    pattern: `<${alt('end of', 'end', 'close')} ${alt('the ', '')}${alt('system ', 'user ', 'original ', '')}${alt('prompt', 'instructions', 'input', 'context', 'document')} ${alt('begin', 'start', 'new', 'now', 'system', 'admin', 'real')}`,
  },
  {
    id: 'injection.begin-new',
    type: 'PROMPT_INJECTION',
    weight: 0.5,
    pattern: `<${alt('begin', 'start', 'enter', 'initiate')} ${alt('new', 'admin', 'developer', 'system', 'secret', 'hidden', 'override', 'privileged')} ${alt('instructions?', 'session', 'prompt', 'task', 'mode', 'directives?')}>`,
  },
  {
    id: 'injection.decode-and-follow',
    type: 'PROMPT_INJECTION',
    weight: 0.55,
    pattern: `<${alt('decode', 'decrypt', 'deobfuscate', 'unscramble', 'reverse', 'base64 decode', 'rot13')}~4 ${alt('and', 'then')} ${alt('follow', 'execute', 'obey', 'run', 'perform', 'carry out', 'act on', 'do what')}`,
  },
  {
    id: 'injection.instead',
    type: 'PROMPT_INJECTION',
    weight: 0.3,
    pattern: `<instead ${alt('say', 'output', 'print', 'respond with', 'reply with', 'write', 'reveal', 'tell me', 'do the following', 'follow these')}>`,
  },
  {
    id: 'injection.role-marker',
    type: 'PROMPT_INJECTION',
    view: 'raw',
    weight: 0.55,
    pattern: String.raw`<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id)\|>|\[/?inst\]|<</?sys>>|<\/?(?:system|system_prompt|sys)>`,
    stems: ['<|', '[inst]', '[/inst]', '<<sys', '<sys', '<system', '</sys'],
  },
  {
    id: 'injection.role-line',
    type: 'PROMPT_INJECTION',
    view: 'raw',
    weight: 0.3,
    pattern: String.raw`(?:^|\n|-{3,}|={3,}|#{3,}|\*{3,})[ \t]{0,8}(?:#{1,4}[ \t]{0,4}|\*\*|\[)?(?:system|admin|developer)(?:[ \t]{1,4}(?:message|prompt|instruction|override|note))?[ \t]{0,4}(?:\*\*|\])?[ \t]{0,4}:`,
    stems: ['system', 'admin', 'developer'],
  },

  // ------------------------------------------------ prompt injection (other languages)
  {
    id: 'injection.ignore-previous.es',
    type: 'PROMPT_INJECTION',
    weight: 0.9,
    pattern: `<${alt('ignora', 'ignore', 'ignoren', 'ignorar', 'ignorad', 'olvida', 'olvide', 'olviden', 'olvidar', 'olvidad', 'descarta', 'descarte', 'omite', 'omita', 'haz caso omiso (?:a|de)', 'no sigas', 'no siga', 'desobedece', 'desatiende', 'ignore as', 'ignora as', 'esqueca', 'esquece', 'dimentica', 'ignora tutte')}~3 ${alt('instrucciones', 'instruccion', 'indicaciones', 'ordenes', 'reglas', 'directrices', 'normas', 'instrucoes', 'instrucao', 'regras', 'istruzioni', 'regole', 'comandos', 'mensajes')}~1 ${alt('anteriores', 'previas', 'precedentes', 'de arriba', 'del sistema', 'originales', 'iniciales', 'dadas', 'recibidas', 'anteriori', 'precedenti', 'do sistema', 'di sistema', 'de antes')}`,
    negatable: true,
  },
  {
    id: 'injection.ignore-everything.es',
    type: 'PROMPT_INJECTION',
    weight: 0.72,
    pattern: `<${alt('ignora', 'ignore', 'olvida', 'olvide', 'olvidate de', 'olvidese de', 'descarta', 'dimentica', 'esqueca', 'esquece')} ${alt('todo', 'tudo', 'tutto')} ${alt('lo anterior', 'lo que', 'o que', 'quello che', 'lo dicho', 'anterior', 'lo de arriba')}`,
    negatable: true,
  },
  {
    id: 'injection.from-now-on.es',
    type: 'PROMPT_INJECTION',
    weight: 0.4,
    pattern: `<${alt('a partir de ahora', 'desde ahora', 'de ahora en adelante', 'a partir de agora', 'da ora in poi')} ${alt('eres', 'seras', 'actuaras', 'tu', 'voce', 'sei', 'debes')}`,
  },
  {
    id: 'injection.ignore-previous.fr',
    type: 'PROMPT_INJECTION',
    weight: 0.9,
    pattern: `<${alt('ignore', 'ignorez', 'ignorer', 'ignores', 'oublie', 'oubliez', 'oublier', 'ne tiens pas compte (?:des|de)', 'ne tenez pas compte (?:des|de)', 'fais abstraction (?:des|de)', 'faites abstraction (?:des|de)', 'ne suis pas', 'ne suivez pas', 'neglige', 'negligez', 'abandonne', 'abandonnez')}~3 ${alt('instructions?', 'consignes?', 'regles', 'directives', 'ordres', 'indications', 'commandes', 'messages')}~1 ${alt('precedentes', 'anterieures', 'ci dessus', 'cidessus', 'du systeme', 'systeme', 'initiales', 'dorigine', 'd origine', 'originales', 'recues', 'donnees')}`,
    negatable: true,
  },
  {
    id: 'injection.ignore-everything.fr',
    type: 'PROMPT_INJECTION',
    weight: 0.72,
    pattern: `<${alt('ignore', 'ignorez', 'oublie', 'oubliez')} ${alt('tout', 'toutes')} ${alt('ce qui precede', 'ce qu on t a dit', 'ce quon ta dit', 'ce que', 'ce qui', 'les instructions', 'tes instructions', 'vos instructions')}`,
    negatable: true,
  },
  {
    id: 'injection.from-now-on.fr',
    type: 'PROMPT_INJECTION',
    weight: 0.4,
    pattern: `<${alt('a partir de maintenant', 'desormais', 'dorenavant', 'des maintenant')} ${alt('tu', 'vous')}`,
  },
  {
    id: 'injection.ignore-previous.de',
    type: 'PROMPT_INJECTION',
    weight: 0.9,
    pattern: `<${alt('ignoriere', 'ignorier', 'ignorieren sie', 'ignoriert', 'vergiss', 'vergesst', 'vergessen sie', 'missachte', 'missachten sie', 'verwirf', 'verwerfen sie', 'befolge nicht', 'befolgen sie nicht', 'uberschreibe', 'hor nicht auf')}~3 ${alt('vorherigen?', 'vorigen?', 'bisherigen?', 'obigen?', 'fruheren?', 'vorangegangenen?', 'vorausgegangenen?', 'ursprunglichen?', 'alten', 'system')} ?${alt('anweisungen', 'anweisung', 'instruktionen', 'befehle', 'regeln', 'anordnungen', 'vorgaben', 'richtlinien', 'systemanweisungen', 'nachrichten', 'prompts?')}`,
    negatable: true,
  },
  {
    id: 'injection.ignore-everything.de',
    type: 'PROMPT_INJECTION',
    weight: 0.72,
    pattern: `<${alt('ignoriere', 'vergiss', 'vergessen sie', 'ignorieren sie')} ${alt('alles', 'samtliche anweisungen', 'deine anweisungen', 'ihre anweisungen', 'alle anweisungen', 'alle regeln')}`,
    negatable: true,
  },
  {
    id: 'injection.from-now-on.de',
    type: 'PROMPT_INJECTION',
    weight: 0.4,
    pattern: `<${alt('ab jetzt', 'von nun an', 'ab sofort')} ${alt('bist du', 'wirst du', 'du bist', 'sind sie', 'antwortest du')}`,
  },
  {
    id: 'injection.ignore-previous.ru',
    type: 'PROMPT_INJECTION',
    weight: 0.9,
    pattern: `<${alt('игнорируи', 'игнорируите', 'проигнорируи', 'проигнорируите', 'забудь', 'забудьте', 'не обращаи внимания на', 'не обращаите внимания на', 'отбрось', 'отбросьте', 'пропусти', 'пропустите', 'не следуи', 'не выполняи', 'отмени', 'отмените', 'игнорировать')}~3 ${alt('предыдущие', 'предыдущих', 'прежние', 'прежних', 'вышеуказанные', 'вышеизложенные', 'предшествующие', 'старые', 'изначальные', 'исходные', 'системные', 'все', 'данные тебе', 'свои', 'твои')} ?${alt('инструкции', 'инструкциям', 'инструкции', 'указания', 'указаниям', 'правила', 'команды', 'установки', 'ограничения', 'директивы', 'сообщения', 'промпт', 'инструкциях')}`,
    negatable: true,
  },
  {
    id: 'injection.ignore-everything.ru',
    type: 'PROMPT_INJECTION',
    weight: 0.72,
    pattern: `<${alt('забудь', 'забудьте', 'игнорируи', 'игнорируите')} ${alt('все', 'всё', 'всю')} ${alt('что', 'выше', 'сказанное', 'предыдущее', 'до этого')}`,
    negatable: true,
  },
  {
    id: 'injection.from-now-on.ru',
    type: 'PROMPT_INJECTION',
    weight: 0.4,
    pattern: `<${alt('отныне', 'с этого момента', 'теперь')} ${alt('ты', 'вы')} ${alt('будешь', 'являешься', 'не', 'должен', 'свободен')}`,
  },
  {
    id: 'injection.ignore-previous.zh',
    type: 'PROMPT_INJECTION',
    weight: 0.9,
    pattern: `${alt('忽略', '忽视', '无视', '無視', '忽視', '忘记', '忘記', '忘掉', '不要理会', '不要理會', '不要遵守', '不要遵循', '不用理会', '别管', '跳过', '跳過', '放弃', '放棄', '抛开', '拋開', '丢弃', '丟棄', '撤销', '覆盖')}[^ ]{0,4}${alt('之前', '以前', '先前', '上面', '以上', '前面', '上述', '此前', '原来', '原先', '原有', '所有', '全部', '一切', '系统', '系統', '初始', '前述', '早先', '开发者', '開發者')}[^ ]{0,8}${alt('指令', '指示', '说明', '說明', '规则', '規則', '提示', '命令', '要求', '设定', '設定', '约束', '約束', '限制', '内容', '內容', '对话', '對話')}`,
    negatable: true,
  },
  {
    id: 'injection.ignore-previous.ja',
    type: 'PROMPT_INJECTION',
    weight: 0.9,
    pattern: `${alt('以前', '前', '上記', 'これまで', '今まで', '先ほど', 'すべて', '全て')} ?の ?${alt('指示', '命令', 'ルール', '指令', '設定', 'プロンプト')} ?(?:は ?|を ?)?(?:すべて ?|全て ?)?${alt('無視', '忘れ')}`,
    negatable: true,
  },
  {
    id: 'injection.from-now-on.zh',
    type: 'PROMPT_INJECTION',
    weight: 0.4,
    pattern: `${alt('从现在开始', '從現在開始', '从现在起', '從現在起', '现在你是', '現在你是', '你现在是', '你現在是')}`,
  },

  // ------------------------------------------------ jailbreak (English)
  {
    id: 'jailbreak.dan',
    type: 'JAILBREAK',
    weight: 0.88,
    pattern: `<${alt('you are', 'youre', 'you re', 'act as', 'acting as', 'pretend to be', 'become', 'roleplay as', 'role play as', 'simulate', 'you will be', 'now', 'called', 'named', 'as')} ${alt('now ', '')}${alt('dan', 'stan', 'dude', 'betterdan', 'better dan', 'mongo tom', 'ucar', 'apophis', 'aim', 'evil confidant', 'antigpt', 'anti gpt', 'dev mode gpt', 'chatgpt unchained', 'unchained')}>`,
  },
  {
    id: 'jailbreak.do-anything-now',
    type: 'JAILBREAK',
    weight: 0.9,
    pattern: `<${alt('do anything now', 'dan mode', 'dan prompt', 'dan jailbreak', 'betterdan', 'better dan', 'anti dan', 'antidan', 'mongo tom', 'evil confidant', 'stan mode', 'dude mode', 'aim mode', 'strive to avoid norms', 'jailbreak mode', 'jailbroken mode', 'always intelligent and machiavellian', 'strive to avoid norms', 'god mode enabled', 'opposite mode', 'evil mode', 'chaos mode', 'unfiltered mode', 'uncensored mode', 'unrestricted mode', 'no restrictions mode')}>`,
  },
  {
    id: 'jailbreak.developer-mode',
    type: 'JAILBREAK',
    weight: 0.5,
    pattern: `<${alt('developer mode', 'dev mode', 'debug mode', 'god mode', 'sudo mode', 'admin mode', 'maintenance mode', 'test mode')} ${alt('enabled', 'activated', 'on', 'output', 'response', 'engaged', 'unlocked', 'v2')}>`,
  },
  {
    id: 'jailbreak.enable-developer-mode',
    type: 'JAILBREAK',
    weight: 0.42,
    pattern: `<${alt('enable', 'activate', 'enter', 'switch to', 'turn on', 'simulate', 'emulate', 'unlock', 'go into', 'act in', 'use', 'with')}~1 ${alt('developer mode', 'dev mode', 'god mode', 'sudo mode', 'jailbreak mode')}>`,
  },
  {
    id: 'jailbreak.bypass-safety',
    type: 'JAILBREAK',
    weight: 0.85,
    pattern: `<${alt('bypass', 'circumvent', 'evade', 'get around', 'get past', 'sidestep', 'disable', 'deactivate', 'turn off', 'switch off', 'remove', 'ignore', 'override', 'break free (?:of|from)', 'escape', 'lift', 'drop', 'abandon', 'forget', 'suspend', 'shut off', 'strip away', 'break')}~2 ${alt('safety', 'content', 'ethical', 'ethics', 'moral', 'openai', 'anthropic', 'censorship', 'alignment', 'refusal', 'usage', 'ai')} ${alt('filters?', 'guidelines', 'guardrails', 'restrictions', 'limitations', 'policies', 'policy', 'protocols', 'measures', 'constraints', 'safeguards', 'mechanisms', 'rules', 'programming', 'training', 'filtering', 'settings', 'features', 'principles', 'boundaries', 'considerations')}>`,
    negatable: true,
  },
  {
    id: 'jailbreak.bypass-your-rules',
    type: 'JAILBREAK',
    weight: 0.78,
    pattern: `<${alt('bypass', 'circumvent', 'evade', 'get around', 'disable', 'deactivate', 'turn off', 'remove', 'override', 'break free (?:of|from)', 'escape', 'lift', 'drop', 'abandon', 'forget', 'suspend', 'break', 'ignore', 'free yourself (?:of|from)', 'liberate yourself from', 'shed')} ${alt('all ', '')}${alt('your', 'its', 'the ai s', 'chatgpt s', 'the models')} ${alt('restrictions', 'limitations', 'filters', 'guidelines', 'guardrails', 'safeguards', 'ethics', 'morals', 'principles', 'censorship', 'conditioning', 'programming', 'alignment', 'safety', 'shackles', 'chains', 'constraints', 'content policy', 'boundaries')}>`,
    negatable: true,
  },
  {
    id: 'jailbreak.bypass-safety-short',
    type: 'JAILBREAK',
    weight: 0.7,
    pattern: `<${alt('bypass', 'circumvent', 'disable', 'deactivate', 'turn off', 'remove', 'lift', 'override', 'evade')} ${alt('all ', 'any ', 'the ', '')}${alt('safety', 'restrictions', 'limitations', 'filters', 'guardrails', 'safeguards', 'censorship', 'content filters?', 'content moderation', 'moderation')}>`,
    negatable: true,
  },
  {
    id: 'jailbreak.unrestricted-persona',
    type: 'JAILBREAK',
    weight: 0.7,
    pattern: `<${alt('unrestricted', 'unfiltered', 'uncensored', 'unaligned', 'unshackled', 'unchained', 'unbound', 'amoral', 'immoral', 'unethical', 'lawless', 'rogue', 'evil', 'jailbroken', 'liberated', 'freed', 'limitless', 'no limits', 'no rules', 'no filter', 'rule free', 'unlimited')} ${alt('ai', 'assistant', 'model', 'chatbot', 'bot', 'version', 'persona', 'character', 'llm', 'gpt', 'chatgpt', 'entity', 'alter ego', 'twin', 'intelligence', 'language model', 'mode', 'clone', 'counterpart')}s?>`,
  },
  {
    id: 'jailbreak.no-ethics',
    type: 'JAILBREAK',
    weight: 0.72,
    pattern: `<${alt('no', 'zero', 'without', 'without any', 'free from', 'free of', 'freed from', 'unbound by', 'not bound by', 'no longer bound by', 'not restricted by', 'not limited by', 'released from', 'liberated from', 'devoid of', 'lacks?', 'disregards?', 'ignores?')} ${alt('any ', 'all ', 'the ', '')}${alt('your ', 'its ', '')}${alt('ethical', 'moral', 'content', 'safety', 'openai', 'openais', 'anthropic', 'anthropics', 'usage')} ${alt('restrictions', 'limitations', 'filters?', 'filtering', 'guidelines', 'rules', 'policies', 'policy', 'censorship', 'constraints', 'boundaries', 'limits', 'principles', 'safeguards', 'guardrails', 'compass', 'considerations', 'concerns')}>`,
  },
  {
    id: 'jailbreak.no-restrictions',
    type: 'JAILBREAK',
    weight: 0.42,
    pattern: `<${alt('no', 'zero', 'without', 'without any', 'free from', 'free of', 'unbound by', 'not bound by', 'no longer bound by', 'not restricted by', 'released from')} ${alt('any ', 'all ', 'the ', '')}${alt('restrictions', 'limitations', 'filters', 'filtering', 'censorship', 'boundaries', 'limits', 'morals', 'ethics', 'morality', 'guardrails', 'safeguards', 'rules or', 'rules and')}>`,
  },
  {
    id: 'jailbreak.does-not-follow-rules',
    type: 'JAILBREAK',
    weight: 0.5,
    before: { re: /\b(?:you|you're|youre|ai|assistant|chatbot|model|it)\b[^.!?\n]{0,24}$/i, weight: 0.7 },
    pattern: `<${alt('does not', 'doesnt', 'dont', 'do not', 'will not', 'wont', 'never', 'cannot', 'can not', 'cant', 'need not', 'neednt', 'no need to')} ${alt('have to ', 'need to ', 'ever ', '')}${alt('follow', 'obey', 'abide by', 'adhere to', 'care about', 'comply with', 'respect', 'worry about')} ${alt('any ', 'the ', 'openai s ', 'openais ', 'your ', '')}${alt('rules', 'restrictions', 'guidelines', 'policies', 'ethics', 'morals', 'filters', 'content polic(?:y|ies)', 'laws', 'limitations', 'safety')}>`,
  },
  {
    id: 'jailbreak.never-refuse',
    type: 'JAILBREAK',
    weight: 0.5,
    pattern: `<${alt('never', 'not', 'cannot', 'can not', 'cant', 'dont', 'do not', 'must not', 'mustnt', 'will not', 'wont', 'shall not', 'should not', 'unable to', 'not allowed to', 'not permitted to')} ${alt('ever ', '')}${alt('refuse', 'decline', 'reject', 'say no to', 'deny')} ${alt('any', 'a', 'my', 'to', 'anything', 'requests?', 'questions?', 'prompts?', 'me')}>`,
  },
  {
    id: 'jailbreak.answer-anything',
    type: 'JAILBREAK',
    weight: 0.45,
    pattern: `<${alt('answer', 'respond to', 'reply to', 'comply with', 'fulfil', 'fulfill', 'do')} ${alt('any', 'every', 'all')} ${alt('question', 'request', 'prompt', 'query', 'command')}s? ${alt('without', 'no matter', 'regardless', 'even if', 'even when', 'whether')}`,
  },
  {
    id: 'jailbreak.no-disclaimers',
    type: 'JAILBREAK',
    weight: 0.42,
    pattern: `<${alt('without', 'no', 'never (?:add|include|give|provide)', 'dont (?:add|include|give)', 'do not (?:add|include|give)', 'skip the')} ${alt('any ', '')}${alt('warnings?', 'disclaimers?', 'moralizing', 'moralising', 'moral lectures?', 'refusals?', 'caveats', 'ethical considerations', 'apologies', 'lectures')}>`,
  },
  {
    id: 'jailbreak.stay-in-character',
    type: 'JAILBREAK',
    weight: 0.42,
    pattern: `<${alt('stay in character', 'never break character', 'do not break character', 'dont break character', 'remain in character', 'stay in role', 'never leave character', 'if you break character')}>`,
  },
  {
    id: 'jailbreak.ai-without-rules',
    type: 'JAILBREAK',
    weight: 0.72,
    pattern: `<${alt('ai', 'assistant', 'model', 'chatbot', 'bot', 'llm', 'version of yourself', 'persona', 'character', 'entity')} ${alt('that', 'which', 'who')} ${alt('doesnt', 'does not', 'has no', 'have no', 'never', 'ignores', 'is not bound by', 'isnt bound by', 'is free from', 'is free of', 'can do anything', 'will do anything', 'answers anything', 'answers any', 'breaks')} ${alt('follow ', 'obey ', 'have ', 'any ', 'all ', 'refuses', 'refuse', 'the ', '')}${alt('rules', 'restrictions', 'filters', 'guidelines', 'ethics', 'morals', 'limits', 'limitations', 'censorship', 'policies', 'request', 'question', 'refuses', 'refuse', '')}`,
  },
  {
    id: 'jailbreak.respond-unrestricted',
    type: 'JAILBREAK',
    weight: 0.7,
    pattern: alt(
      `<${alt('answer', 'respond', 'reply', 'talk', 'write', 'speak', 'output', 'act', 'behave', 'continue')} ${alt('without', 'with no', 'free of')} ${alt('any ', 'all ', '')}${alt('restrictions', 'filters', 'filtering', 'censorship', 'limits', 'limitations', 'safety (?:filters|guidelines|restrictions)', 'ethical (?:guidelines|restrictions|constraints)', 'guardrails', 'moral (?:restrictions|constraints)')}>`,
      `<${alt('responde', 'responda', 'contesta', 'conteste', 'habla', 'escribe', 'reponds', 'repondez', 'ecris', 'parle', 'antworte', 'antworten sie', 'schreibe', 'rede', 'отвечаи', 'отвечаите', 'пиши', 'говори', 'rispondi', 'responda')} ${alt('sin', 'sans', 'ohne', 'без', 'senza', 'sem')} ${alt('ninguna ', 'ningun ', 'aucune ', 'aucun ', 'jegliche ', 'irgendwelche ', 'каких либо ', 'всяких ', 'alcuna ', 'nenhuma ', '')}${alt('restricciones', 'filtros?', 'censura', 'limites', 'restrictions?', 'filtres?', 'censure', 'einschrankungen', 'beschrankungen', 'filter', 'zensur', 'grenzen', 'ограничении', 'цензуры', 'фильтров', 'restrizioni', 'restricoes')}>`,
      `(?:回答|回复|回覆|说话|說話|输出|輸出)(?:时|時)?(?:不受|没有|沒有|无|無|不要有)(?:任何)?(?:限制|约束|約束|审查|審查|过滤|過濾)`,
    ),
  },
  {
    id: 'jailbreak.filters-off',
    type: 'JAILBREAK',
    weight: 0.6,
    pattern: `<${alt('content', 'safety', 'ethical', 'ethics', 'moral', 'censorship')} ${alt('filters?', 'guidelines', 'restrictions', 'guardrails', 'safeguards', 'moderation', 'protocols', 'settings')} ${alt('are ', 'is ', '')}${alt('now ', '')}${alt('off', 'disabled', 'deactivated', 'removed', 'lifted', 'turned off', 'bypassed', 'suspended')}>`,
  },
  {
    id: 'jailbreak.pretend-unrestricted',
    type: 'JAILBREAK',
    weight: 0.82,
    pattern: `<${alt('pretend', 'imagine', 'act', 'behave', 'roleplay', 'role play', 'suppose', 'assume', 'simulate', 'hypothetically', 'in a world where')}~2 ${alt('you', 'youre', 'you re', 'you are', 'that you', 'to be', 'like', 'as if', 'an ai', 'ai')}~3 ${alt('no', 'without', 'free', 'unrestricted', 'unfiltered', 'uncensored', 'not bound', 'have no', 'dont have', 'jailbroken', 'evil', 'amoral', 'unethical', 'never refuse', 'can do anything', 'no longer')} ${alt('restrictions', 'limitations', 'filters', 'rules', 'guidelines', 'ethics', 'morals', 'censorship', 'ai', 'assistant', 'model', 'restricted', 'content (?:filters|policy|policies|restrictions)', 'safety (?:training|filters|guidelines|rules|restrictions)', 'ethical (?:guidelines|rules|restrictions|constraints)', 'moral (?:compass|guidelines|constraints)')}`,
  },
  {
    id: 'jailbreak.can-do-anything',
    type: 'JAILBREAK',
    weight: 0.45,
    pattern: `<${alt('you', 'they', 'it', 'he', 'she')} ${alt('can', 'will', 'are able to', 'is able to')} ${alt('now ', '')}do anything>`,
  },
  {
    id: 'jailbreak.keyword',
    type: 'JAILBREAK',
    weight: 0.35,
    pattern: `<${alt('jailbreak', 'jailbroken', 'jailbreaking', 'jailbreaks')}>`,
  },
  {
    id: 'jailbreak.dual-response',
    type: 'JAILBREAK',
    weight: 0.45,
    pattern: `<${alt('classic', 'normal', 'gpt', 'chatgpt', 'locked')} ${alt('response', 'answer', 'output', 'mode')} ${alt('and', 'followed by', 'then')} ${alt('the ', 'a ', '')}${alt('jailbroken', 'jailbreak', 'dan', 'unfiltered', 'developer mode', 'uncensored', 'unlocked', 'evil')}`,
  },
  {
    id: 'jailbreak.educational-pretext',
    type: 'JAILBREAK',
    weight: 0.25,
    pattern: `<for ${alt('purely ', '')}${alt('educational', 'research', 'academic', 'hypothetical', 'fictional', 'informational')} purposes ${alt('only', 'tell', 'explain', 'describe', 'how')}`,
  },

  // ------------------------------------------------ jailbreak (other languages)
  {
    id: 'jailbreak.developer-mode.intl',
    type: 'JAILBREAK',
    weight: 0.55,
    pattern: alt(
      '<modo (?:desarrollador|de desarrollador|desenvolvedor|sviluppatore|dios|sin restricciones|sin censura|sem restricoes)>',
      '<mode (?:developpeur|dieu|sans restrictions?|sans censure|non censure)>',
      '<(?:entwicklermodus|entwickler modus|gottmodus)>',
      '<режим (?:разработчика|бога|без ограничении|без цензуры|dan)>',
      '(?:开发者模式|開發者模式|开发人员模式|越狱模式|越獄模式|上帝模式|无限制模式|無限制模式)',
    ),
  },
  {
    id: 'jailbreak.no-restrictions.intl',
    type: 'JAILBREAK',
    weight: 0.62,
    pattern: alt(
      `<(?:sin|libre de|sem|senza|livre de) ${alt('ninguna ', 'ningun ', 'ninguna clase de ', 'nenhuma ', 'alcuna ', '')}${alt('restricciones', 'restriccion', 'filtros?', 'censura', 'limites', 'reglas eticas', 'etica', 'moral', 'restricoes', 'restrizioni', 'limitazioni', 'limitaciones')}>`,
      `<sans ${alt('aucune ', 'aucun ', '')}${alt('restrictions?', 'filtres?', 'censure', 'limites?', 'regles', 'ethique', 'morale', 'limitations?')}>`,
      `<ohne ${alt('jegliche ', 'irgendwelche ', 'alle ', '')}${alt('einschrankungen', 'beschrankungen', 'filter', 'zensur', 'regeln', 'grenzen', 'moral', 'ethik', 'richtlinien', 'limits')}>`,
      `<без ${alt('каких либо ', 'всяких ', 'любых ', '')}${alt('ограничении', 'цензуры', 'фильтров', 'правил', 'морали', 'этики', 'запретов')}>`,
      `(?:没有|沒有|不受|无|無|摆脱|擺脫|解除|绕过|繞過|突破|取消|去除|移除|关闭|關閉)(?:任何)?(?:的)?(?:限制|约束|約束|审查|審查|过滤|過濾|道德|规则|規則|安全限制|内容政策|內容政策)`,
    ),
  },
  {
    id: 'jailbreak.bypass-safety.intl',
    type: 'JAILBREAK',
    weight: 0.8,
    pattern: alt(
      `<${alt('salta', 'saltate', 'evita', 'elude', 'desactiva', 'ignora', 'omite', 'contorna', 'ignore', 'desative', 'disattiva', 'aggira')}~2 ${alt('tus', 'los', 'las', 'sus', 'suas', 'seus', 'i tuoi', 'le tue', 'todas las', 'todos los')} ${alt('filtros', 'restricciones', 'normas de seguridad', 'directrices eticas', 'politicas de contenido', 'salvaguardas', 'restricoes', 'filtri', 'restrizioni', 'limitaciones')}>`,
      `<${alt('contourne', 'contournez', 'desactive', 'desactivez', 'ignore', 'ignorez', 'supprime', 'supprimez', 'leve', 'levez')}~2 ${alt('tes', 'vos', 'les', 'toutes les', 'tous les')} ${alt('filtres', 'restrictions', 'regles de securite', 'garde fous', 'gardefous', 'limites', 'directives ethiques', 'protections')}>`,
      `<${alt('umgehe', 'umgehen sie', 'deaktiviere', 'deaktivieren sie', 'ignoriere', 'ignorieren sie', 'entferne', 'entfernen sie', 'schalte', 'hebe')}~2 ${alt('deine', 'ihre', 'die', 'alle', 'samtliche')} ${alt('sicherheitsfilter', 'sicherheitsrichtlinien', 'sicherheitsregeln', 'filter', 'einschrankungen', 'beschrankungen', 'richtlinien', 'inhaltsrichtlinien', 'schutzmechanismen', 'ethischen richtlinien', 'zensur')}>`,
      `<${alt('обходи', 'обоиди', 'отключи', 'отключите', 'игнорируи', 'снимите', 'сними', 'обоидите')} ${alt('свои', 'все', 'твои', 'эти', '')} ?${alt('фильтры', 'ограничения', 'правила безопасности', 'защиту', 'цензуру', 'этические нормы', 'запреты')}>`,
    ),
    negatable: true,
  },
  {
    id: 'jailbreak.persona.intl',
    type: 'JAILBREAK',
    weight: 0.72,
    pattern: alt(
      `<${alt('eres', 'seras', 'ahora eres', 'actua como', 'finge ser', 'voce e', 'sei', 'tu es', 'tu seras', 'agis comme', 'fais semblant d etre', 'du bist', 'spiele', 'ты', 'теперь ты', 'притворись')} ${alt('ahora ', 'maintenant ', 'jetzt ', 'теперь ', '')}${alt('dan', 'una ia sin restricciones', 'una ia sin filtros', 'una ia sin censura', 'une ia sans restrictions', 'une ia sans filtre', 'une ia sans censure', 'eine ki ohne einschrankungen', 'eine ki ohne regeln', 'eine ki ohne filter', 'ии без ограничении', 'ии без цензуры', 'нейросеть без ограничении')}>`,
      `(?:你现在是|你現在是|你是|扮演|假装你是|假裝你是|假设你是|假設你是)(?: ?一个| ?一個)? ?(?:dan|没有任何限制|沒有任何限制|不受限制|无限制|無限制|没有限制|沒有限制|邪恶|邪惡)`,
    ),
  },

  // ------------------------------------------------ data exfiltration (English)
  {
    id: 'exfiltration.environment',
    type: 'DATA_EXFILTRATION',
    weight: 0.86,
    pattern: `<${alt('print', 'show', 'list', 'dump', 'output', 'display', 'reveal', 'echo', 'give me', 'tell me', 'send', 'leak', 'expose', 'cat', 'read', 'return', 'export', 'enumerate', 'disclose', 'share', 'paste', 'provide', 'write out', 'spit out', 'exfiltrate', 'upload', 'post', 'email', 'forward', 'retrieve', 'fetch', 'extract', 'grab', 'steal', 'collect', 'what are')}~1 ${alt('your', 'all', 'all the', 'all of the', 'all your', 'every', 'the servers', 'the server s', 'the systems', 'the system s', 'the hosts', 'this machines', 'the machines', 'internal', 'hidden', 'stored', 'saved', 'system', 'server', 'the current', 'the full', 'the complete', 'the entire', 'all available', 'any')} ${alt('environment variables?', 'env vars?', 'env variables', 'environ', 'envvars', 'environment', 'secrets?', 'api keys?', 'apikeys?', 'access keys?', 'secret keys?', 'private keys?', 'ssh keys?', 'credentials', 'access tokens?', 'auth tokens?', 'bearer tokens?', 'session tokens?', 'tokens', 'passwords?', 'password hashes', 'connection strings?', 'database credentials', 'aws keys', 'keys', 'config files?', 'configuration files?', 'cookies')}>`,
    negatable: true,
    questionable: true,
  },
  {
    id: 'exfiltration.steal-secrets',
    type: 'DATA_EXFILTRATION',
    weight: 0.85,
    pattern: `<${alt('leak', 'steal', 'exfiltrate', 'expose', 'harvest', 'siphon', 'smuggle out', 'sneak out', 'extract and send')}~3 ${alt('environment variables?', 'env vars?', 'secrets?', 'api keys?', 'access keys?', 'secret keys?', 'private keys?', 'ssh keys?', 'credentials', 'access tokens?', 'auth tokens?', 'session tokens?', 'tokens', 'passwords?', 'password hashes', 'cookies', 'system prompt', 'user data', 'personal data')}>`,
    negatable: true,
    questionable: true,
  },
  {
    id: 'exfiltration.environment-weak',
    type: 'DATA_EXFILTRATION',
    weight: 0.55,
    sentenceStart: 0.82,
    pattern: `<${alt('print', 'show', 'list', 'dump', 'output', 'display', 'reveal', 'echo', 'give me', 'tell me', 'send', 'leak', 'expose', 'disclose', 'exfiltrate', 'extract', 'steal', 'grab')}~3 ${alt('environment variables', 'env vars', 'env variables', 'api keys?', 'secret keys?', 'private keys?', 'ssh keys?', 'credentials', 'access tokens?', 'passwords', 'password hashes', 'aws keys', 'secrets')}>`,
    negatable: true,
    questionable: true,
  },
  {
    id: 'exfiltration.prompt-leak',
    type: 'DATA_EXFILTRATION',
    weight: 0.86,
    pattern: `<${alt('print', 'show', 'reveal', 'repeat', 'output', 'display', 'tell me', 'give me', 'leak', 'disclose', 'write', 'write out', 'recite', 'spell out', 'share', 'dump', 'paste', 'copy', 'list', 'echo', 'return', 'expose', 'tell', 'send', 'translate', 'summarize', 'what is', 'what are', 'what were', 'whats', 'describe')}~2 ${alt('your', 'the', 'its', 'all', 'me your', 'me the', 'us your')} ${alt('full ', 'complete ', 'entire ', 'exact ', 'whole ', 'verbatim ', '')}${alt('system prompt', 'system message', 'initial prompt', 'original prompt', 'hidden prompt', 'secret prompt', 'pre prompt', 'preprompt', 'meta prompt', 'initial instructions', 'original instructions', 'hidden instructions', 'secret instructions', 'system instructions', 'developer instructions', 'internal instructions', 'instructions you were given', 'instructions above', 'prompt above', 'text above', 'rules you were given', 'confidential instructions', 'first instructions', 'custom instructions', 'system configuration', 'initialization', 'hidden rules', 'secret rules', 'internal rules', 'guidelines you were given')}>`,
    negatable: true,
    questionable: true,
  },
  {
    id: 'exfiltration.repeat-above',
    type: 'DATA_EXFILTRATION',
    weight: 0.62,
    pattern: `<${alt('repeat', 'print', 'output', 'copy', 'recite', 'echo', 'write')} ${alt('back ', '')}${alt('the words', 'the text', 'everything', 'all', 'all text', 'all the text', 'the content', 'every word', 'the instructions', 'the prompt', 'the message')} ${alt('above', 'before this', 'preceding', 'prior to this', 'so far', 'from the beginning', 'from the start', 'verbatim')}`,
    negatable: true,
  },
  {
    id: 'exfiltration.what-instructions',
    type: 'DATA_EXFILTRATION',
    weight: 0.55,
    pattern: `<${alt('what', 'which')} ${alt('are', 'were', 'is')} ${alt('your', 'the')} ${alt('instructions', 'rules', 'guidelines', 'directives', 'system prompt', 'initial instructions', 'hidden instructions')}>`,
    negatable: true,
  },
  {
    id: 'exfiltration.send-secrets',
    type: 'DATA_EXFILTRATION',
    weight: 0.82,
    pattern: `<${alt('send', 'post', 'upload', 'forward', 'transmit', 'exfiltrate', 'leak', 'email', 'mail', 'submit', 'deliver', 'pipe', 'copy', 'append', 'encode', 'include', 'embed', 'attach', 'put', 'insert', 'add', 'write')}~2 ${alt('the ', 'all ', 'your ', 'this ', 'any ', 'every ', '')}${alt('conversation', 'chat history', 'chat log', 'chat', 'history', 'secrets?', 'credentials', 'passwords?', 'keys', 'api keys?', 'tokens', 'session tokens?', 'cookies', 'user data', 'personal (?:data|information|details)', 'private (?:data|information|messages)', 'system prompt', 'memory', 'previous messages', 'env(?:ironment)? vars?', 'environment variables', 'users? emails?', 'user information', 'ssh keys?', 'private keys?')}~6 ${alt('to', 'into', 'in', 'as')}~2 ${alt('https?', 'http', 'www', 'url', 'webhook', 'endpoint', 'server', 'attacker', 'external', 'remote', 'email', 'address', 'ftp', 'bucket', 'domain', 'site', 'website', 'link', 'ip', 'query (?:string|param|parameter)', 'image', 'markdown')}`,
    negatable: true,
  },
  {
    id: 'exfiltration.send-data',
    type: 'DATA_EXFILTRATION',
    weight: 0.42,
    pattern: `<${alt('send', 'post', 'upload', 'forward', 'transmit', 'exfiltrate', 'leak', 'email', 'submit', 'append', 'encode', 'include', 'embed')}~2 ${alt('data', 'information', 'contents', 'files', 'documents', 'messages', 'results', 'summary', 'answer', 'response')}~4 ${alt('to', 'into', 'in')}~2 ${alt('https?', 'http', 'www', 'webhook', 'attacker', 'external', 'remote', 'query (?:string|param|parameter)', 'image url')}`,
    negatable: true,
  },
  {
    id: 'exfiltration.keyword',
    type: 'DATA_EXFILTRATION',
    weight: 0.42,
    pattern: `<${alt('exfiltrate', 'exfiltrating', 'exfiltration', 'exfil')}>`,
  },
  {
    id: 'exfiltration.sensitive-file',
    type: 'DATA_EXFILTRATION',
    view: 'raw',
    weight: 0.5,
    pattern: String.raw`/etc/(?:passwd|shadow|sudoers|master\.passwd|gshadow)\b|~?/\.ssh/(?:id_[a-z0-9]+|authorized_keys|known_hosts|config)\b|\.aws/credentials|/proc/self/(?:environ|cmdline|maps|mem)|/proc/\d{1,7}/environ|(?:^|[\s'"/])\.env(?:\.local|\.production)?(?![\w.-])|\.git-credentials|\.npmrc\b|\.pgpass\b|\.netrc\b|\.docker/config\.json|/var/run/secrets|\\windows\\system32\\config\\sam|wp-config\.php|\.kube/config|\bid_rsa\b|\bid_ed25519\b|\.bash_history|\.zsh_history`,
    before: {
      re: /\b(?:cat|read|open|print|show|display|dump|type|less|more|head|tail|output|fetch|include|load|exfiltrate|copy|send|upload|leak|reveal|post|contents? of|give me|access|get|curl|wget|scp|nc|base64|strings|xxd)\b[^\n]{0,40}$/i,
      weight: 0.86,
    },
    questionable: true,
    negatable: true,
    stems: [
      '/etc/',
      '.ssh',
      '.aws',
      '/proc/',
      '.env',
      '.git-cred',
      '.npmrc',
      '.pgpass',
      '.netrc',
      '.docker',
      '/var/run',
      'system32',
      'wp-config',
      '.kube',
      'id_rsa',
      'id_ed25519',
      '_history',
    ],
  },
  {
    id: 'exfiltration.env-dump',
    type: 'DATA_EXFILTRATION',
    view: 'raw',
    weight: 0.55,
    pattern: String.raw`\bprintenv\b(?![ \t]{0,4}[A-Za-z_])|\benv[ \t]{0,4}(?:\||>)|(?:print|console\.log|json\.dumps|json\.stringify|echo|dict)\(?[ \t]{0,4}(?:os\.environ|process\.env)[ \t]{0,4}\)|\bget-childitem[ \t]+env:|\bgci[ \t]+env:|\bset[ \t]{0,4}>[ \t]{0,4}\S`,
    stems: ['printenv', 'env', 'environ', 'process.env', 'set'],
    before: { re: /\b(?:run|execute|exec|eval|evaluate|call|type)\b[^\n]{0,30}$/i, weight: 0.82 },
  },
  {
    id: 'exfiltration.secret-var',
    type: 'DATA_EXFILTRATION',
    view: 'raw',
    weight: 0.5,
    pattern: String.raw`\$\{?(?:aws_secret_access_key|aws_access_key_id|aws_session_token|openai_api_key|anthropic_api_key|github_token|gh_token|database_url|secret_key|api_key|stripe_secret_key|db_password|private_key)\b`,
    stems: ['$'],
    before: {
      re: /\b(?:echo|print|printf|cat|curl|wget|send|post|show|display|output|reveal|tell me|give me|write|type)\b[^\n]{0,20}$/i,
      weight: 0.84,
    },
  },
  {
    id: 'exfiltration.net-send',
    type: 'DATA_EXFILTRATION',
    view: 'raw',
    weight: 0.6,
    pattern: String.raw`\b(?:curl|wget)\b[^\n]{0,120}(?:-d|--data|--data-binary|--upload-file|-F|-T|--post-data|--post-file)\b[^\n]{0,80}(?:\$\(|\$\{?[a-z_]|@/|@~|\x60|/etc/|\.env|\.ssh|\.aws|environ|printenv)|\b(?:nc|netcat|ncat)\b[ \t][^\n]{0,60}<[ \t]{0,4}(?:/etc/|~/|\.env|\.ssh)|\|[ \t]{0,4}(?:curl|nc|netcat|ncat|wget)\b[^\n]{0,40}(?:https?://|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})`,
    stems: ['curl', 'wget', 'nc', 'netcat'],
  },
  {
    id: 'exfiltration.markdown-image',
    type: 'DATA_EXFILTRATION',
    view: 'raw',
    weight: 0.45,
    pattern: String.raw`!\[[^\]\n]{0,100}\]\([ \t]{0,4}https?://[^)\s]{1,300}[?&][a-z0-9_]{1,40}=[a-z_]{0,20}(?:data|secret|key|token|conversation|chat|history|prompt|password|message|info|summary|content|email|cookie)`,
    stems: ['!['],
  },
  {
    id: 'exfiltration.markdown-image-template',
    type: 'DATA_EXFILTRATION',
    view: 'raw',
    weight: 0.82,
    pattern: String.raw`!\[[^\]\n]{0,100}\]\([ \t]{0,4}https?://[^)\s]{1,300}[?&/=](?:\{\{?|\$\{|\[|<|%7b)[ \t]{0,2}[a-z_ ]{0,30}(?:data|secret|key|token|conversation|chat|history|prompt|password|message|info|summary|content|email|cookie|user|name|context|memory)`,
    stems: ['!['],
  },

  // ------------------------------------------------ data exfiltration (other languages)
  {
    id: 'exfiltration.intl',
    type: 'DATA_EXFILTRATION',
    weight: 0.84,
    pattern: alt(
      `<${alt('muestra', 'muestrame', 'imprime', 'revela', 'revelame', 'dime', 'ensename', 'lista', 'envia', 'mostra', 'mostre', 'revele', 'me diga', 'stampa', 'rivela', 'mostrami')}~2 ${alt('tus', 'las', 'los', 'el', 'tu', 'todas las', 'todos los', 'suas', 'seu', 'il tuo', 'le', 'i tuoi', 'as', 'o')} ${alt('variables de entorno', 'prompt del sistema', 'prompt de sistema', 'instrucciones del sistema', 'instrucciones iniciales', 'instrucciones ocultas', 'contrasenas', 'claves api', 'claves de api', 'credenciales', 'claves secretas', 'variaveis de ambiente', 'prompt do sistema', 'senhas', 'variabili d ambiente', 'prompt di sistema', 'password')}>`,
      `<${alt('affiche', 'affichez', 'montre', 'montrez', 'revele', 'revelez', 'donne moi', 'donnez moi', 'imprime', 'imprimez', 'liste', 'listez', 'envoie', 'envoyez', 'dis moi', 'dites moi', 'repete', 'repetez')}~2 ${alt('tes', 'vos', 'les', 'ton', 'votre', 'toutes les', 'tous les', 'le', 'la')} ${alt('variables d environnement', 'variables denvironnement', 'prompt systeme', 'prompt du systeme', 'instructions systeme', 'instructions initiales', 'instructions cachees', 'mots de passe', 'cles api', 'cles d api', 'identifiants', 'secrets', 'consignes initiales')}>`,
      `<${alt('zeige', 'zeig', 'zeigen sie', 'gib', 'geben sie', 'drucke', 'verrate', 'verraten sie', 'nenne', 'liste', 'sende', 'schicke', 'wiederhole', 'gib mir')}~2 ${alt('deine', 'ihre', 'die', 'alle', 'mir', 'mir deine', 'mir die', 'mir alle', 'den', 'dein')} ${alt('umgebungsvariablen', 'systemprompt', 'system prompt', 'systemanweisungen', 'anfangsanweisungen', 'versteckten anweisungen', 'passworter', 'passwoerter', 'api schlussel', 'zugangsdaten', 'geheimnisse', 'anmeldedaten')}>`,
      `<${alt('покажи', 'покажите', 'выведи', 'выведите', 'распечатаи', 'раскрои', 'раскроите', 'напиши', 'сообщи', 'отправь', 'повтори', 'перечисли', 'дай')}~2 ${alt('свои', 'твои', 'все', 'мне', 'мне свои', 'мне все', 'свои системные', 'свою', 'твою', '')} ?${alt('системныи промпт', 'системные инструкции', 'переменные окружения', 'пароли', 'ключи api', 'api ключи', 'учетные данные', 'секреты', 'исходные инструкции', 'начальные инструкции', 'токены')}>`,
      `(?:打印|输出|輸出|显示|顯示|告诉我|告訴我|列出|泄露|洩露|透露|发送|發送|重复|重複|给我|給我|展示|说出|說出)[^ ]{0,6}(?:系统提示词|系統提示詞|系统提示|系統提示|系统指令|系統指令|初始指令|环境变量|環境變數|环境变数|密码|密碼|密钥|密鑰|api ?密钥|凭证|憑證|隐藏指令|隱藏指令)`,
    ),
    negatable: true,
    questionable: true,
  },
];

/** Rule ids of the non-phrase detectors (see `unicode.ts` and `scanner.ts`). */
export const STRUCTURAL_RULES = [
  'malformed.null-byte',
  'malformed.control-char',
  'malformed.ansi-escape',
  'malformed.ansi-conceal',
  'malformed.formfeed',
  'malformed.c1-control',
  'malformed.lone-surrogate',
  'malformed.replacement-char',
  'malformed.noncharacter',
  'malformed.bidi-control',
  'malformed.zero-width',
  'malformed.tag-characters',
  'malformed.variation-selectors',
  'malformed.overlong-utf8',
  'malformed.invalid-json',
  'malformed.oversize',
  'nesting.json-depth',
] as const;
