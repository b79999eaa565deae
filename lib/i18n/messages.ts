import { currentLanguage, type Language } from './language';
import { findAgency } from '../agencies';

/**
 * Every message Citizen Graph's gateway and subgraphs write for a client, in English and Vietnamese, in one
 * table keyed by stable codes. A key is the error's `extensions.reason` (or its `extensions.code` where the
 * code says it all) except where one reason has several wordings (CITIZEN_DECEASED, say); those keys say so.
 * The codes never depend on the language: a frontend may switch on `extensions.code`/`reason` and write its
 * own words, or show `message`, which is in the caller's language (Accept-Language, lib/i18n/language.ts).
 *
 * Messages take their values as parameters; the English ones are the words clients and tests already knew.
 * GraphQL's own parse and validation messages (graphql-js) and Apollo Server's request errors keep their
 * English detail inside a Vietnamese sentence: they are for the developer writing the operation.
 */
type Render<P> = (p: P) => string;
interface Message<P> {
  en: Render<P>;
  vi: Render<P>;
}
type None = Record<string, never>;
const say = <P = None>(en: Render<P>, vi: Render<P>): Message<P> => ({ en, vi });

type Sex = 'MALE' | 'FEMALE';
const SEX_WORDS: Record<Language, Record<Sex, string>> = { en: { MALE: 'male', FEMALE: 'female' }, vi: { MALE: 'nam', FEMALE: 'nữ' } };
type ParentRole = 'mother' | 'father';
const PARENT_WORDS: Record<ParentRole, string> = { mother: 'mẹ', father: 'cha' };

/** An agency's name and what it holds, in a language (lib/agencies.ts keeps both). */
function agencyWords(id: string | undefined, language: Language): { title: string; holds: string } | null {
  const agency = id ? findAgency(id) : undefined;
  if (!agency) return null;
  return language === 'vi' ? agency.vi : { title: agency.title, holds: agency.holds };
}

/** Where in a request a bad value was: a variable (with its path inside an input object), an argument, or neither. */
type Place = { variable?: string; argument?: string };
const place = (where: Place, language: Language): string =>
  where.variable
    ? `${language === 'vi' ? 'Biến' : 'Variable'} $${where.variable}`
    : where.argument
      ? `${language === 'vi' ? 'Tham số' : 'Argument'} ${where.argument}`
      : language === 'vi'
        ? 'Giá trị đầu vào'
        : 'Input';

/** The dates a date may not come before (DATE_BEFORE's `what`), as `notBefore` callers name them. */
export const LANDMARKS = {
  PREVIOUS_CARD_ISSUE: say<{ number: string }>(
    (p) => `the issue date of the citizen's card ${p.number}`,
    (p) => `ngày cấp thẻ ${p.number} của công dân`,
  ),
  HOLDER_BIRTH: say(
    () => "the holder's date of birth",
    () => 'ngày sinh của người được cấp thẻ',
  ),
  CARD_ISSUE: say(
    () => "the card's issue date",
    () => 'ngày cấp thẻ',
  ),
  PREVIOUS_MEMBERSHIP_END: say(
    () => 'the end of their previous household membership',
    () => 'ngày kết thúc lần là thành viên hộ gia đình trước đó',
  ),
  HOUSEHOLD_ESTABLISHED: say(
    () => 'the household was established',
    () => 'ngày lập hộ gia đình',
  ),
  MEMBERSHIP_START: say(
    () => 'the start of their membership',
    () => 'ngày bắt đầu là thành viên hộ',
  ),
  NEW_HEAD_MEMBERSHIP_START: say(
    () => "the start of the new head's membership",
    () => 'ngày chủ hộ mới bắt đầu là thành viên hộ',
  ),
  PREVIOUS_HEAD_MEMBERSHIP_START: say(
    () => "the start of the previous head's membership",
    () => 'ngày chủ hộ cũ bắt đầu là thành viên hộ',
  ),
  BIRTH: say(
    () => 'the date of birth',
    () => 'ngày sinh',
  ),
  CITIZEN_BIRTH: say(
    () => "the citizen's date of birth",
    () => 'ngày sinh của công dân',
  ),
  CURRENT_RESIDENCE_START: say(
    () => 'the start of the current permanent residence',
    () => 'ngày bắt đầu nơi thường trú hiện tại',
  ),
  TODAY_ENDED: say(
    () => 'today: a registration that has already ended cannot be registered',
    () => 'hôm nay: không thể đăng ký một nơi cư trú đã kết thúc',
  ),
  REGISTRATION_START: say(
    () => "the registration's start",
    () => 'ngày bắt đầu của đăng ký cư trú',
  ),
} as const;
export type LandmarkKey = keyof typeof LANDMARKS;

export const MESSAGES = {
  // --- The request itself (HTTP, GraphQL documents) -------------------------------------------------------
  BODY_TOO_LARGE: say<{ limit: string }>(
    (p) => `The request body is larger than ${p.limit}, the most this gateway accepts.`,
    (p) => `Nội dung yêu cầu lớn hơn ${p.limit}, mức tối đa mà cổng này chấp nhận.`,
  ),
  BODY_NOT_JSON: say(
    () => 'The request body is not valid JSON.',
    () => 'Nội dung yêu cầu không phải là JSON hợp lệ.',
  ),
  BODY_UNREADABLE: say(
    () => 'The request body could not be read.',
    () => 'Không đọc được nội dung yêu cầu.',
  ),
  BAD_REQUEST: say<{ detail: string }>(
    (p) => p.detail,
    (p) => `Yêu cầu không đúng quy cách GraphQL qua HTTP: ${p.detail}`,
  ),
  GRAPHQL_PARSE_FAILED: say<{ detail: string }>(
    (p) => p.detail,
    (p) => `Văn bản GraphQL sai cú pháp: ${p.detail}`,
  ),
  GRAPHQL_VALIDATION_FAILED: say<{ detail: string }>(
    (p) => p.detail,
    (p) => `Thao tác không hợp lệ theo lược đồ: ${p.detail}`,
  ),
  VARIABLE_INVALID: say<{ detail: string }>(
    (p) => p.detail,
    (p) => `Giá trị của biến không hợp lệ: ${p.detail}`,
  ),
  OPERATION_NOT_FOUND: say<{ name: string }>(
    (p) => `The document has no operation named "${p.name}".`,
    (p) => `Tài liệu không có thao tác nào tên "${p.name}".`,
  ),
  OPERATION_NAME_REQUIRED: say(
    () => 'The document has several operations: name the one to run with operationName.',
    () => 'Tài liệu có nhiều thao tác: hãy chọn thao tác cần chạy bằng operationName.',
  ),
  SUBSCRIPTION_NOT_SUPPORTED: say(
    () => 'Citizen Graph has no subscriptions; send a query or a mutation.',
    () => 'Citizen Graph không có subscription; hãy gửi một query hoặc một mutation.',
  ),
  LIMIT_DEPTH: say<{ actual: number; maximum: number }>(
    (p) => `The operation nests fields ${p.actual} deep; at most ${p.maximum} is allowed.`,
    (p) => `Thao tác lồng các trường sâu ${p.actual} mức; tối đa cho phép là ${p.maximum}.`,
  ),
  LIMIT_ALIASES: say<{ actual: number; maximum: number }>(
    (p) => `The operation uses ${p.actual} aliases; at most ${p.maximum} are allowed.`,
    (p) => `Thao tác dùng ${p.actual} bí danh (alias); tối đa cho phép là ${p.maximum}.`,
  ),
  LIMIT_DIRECTIVES: say<{ actual: number; maximum: number }>(
    (p) => `The operation uses ${p.actual} directives; at most ${p.maximum} are allowed.`,
    (p) => `Thao tác dùng ${p.actual} chỉ thị (directive); tối đa cho phép là ${p.maximum}.`,
  ),
  LIMIT_COST: say<{ actual: number; maximum: number; trusted: boolean }>(
    (p) =>
      `The operation's estimated cost is ${p.actual}; at most ${p.maximum} is allowed for ${p.trusted ? 'a trusted document' : 'a free-form document'}. Ask for fewer items (first, fewer codes) or fewer nested lists.`,
    (p) =>
      `Chi phí ước tính của thao tác là ${p.actual}; ${p.trusted ? 'tài liệu tin cậy' : 'tài liệu tự soạn'} chỉ được tối đa ${p.maximum}. Hãy yêu cầu ít mục hơn (first, ít mã hơn) hoặc ít danh sách lồng nhau hơn.`,
  ),
  LIMIT_TOKENS: say<{ maximum: number }>(
    (p) => `The operation has more than ${p.maximum} tokens; at most ${p.maximum} are allowed.`,
    (p) => `Thao tác có hơn ${p.maximum} token; tối đa cho phép là ${p.maximum}.`,
  ),
  TRUSTED_DOCUMENT_REQUIRED: say(
    () => 'This gateway runs only trusted documents for your role: send the id of a known operation (documentId, or extensions.persistedQuery.sha256Hash) instead of a query text.',
    () => 'Với vai trò của bạn, cổng này chỉ chạy tài liệu tin cậy: hãy gửi mã của một thao tác đã biết (documentId, hoặc extensions.persistedQuery.sha256Hash) thay cho văn bản truy vấn.',
  ),
  TRUSTED_DOCUMENT_UNKNOWN: say<{ id: string }>(
    (p) => `No trusted document has the id ${p.id}. Send the id of an operation of the manifests this gateway was deployed with (its TRUSTED_DOCUMENTS_DIR).`,
    (p) => `Không có tài liệu tin cậy nào có mã ${p.id}. Hãy gửi mã của một thao tác trong các danh mục (manifest) được triển khai cùng cổng này (TRUSTED_DOCUMENTS_DIR).`,
  ),
  TRUSTED_DOCUMENT_MISMATCH: say<{ id: string }>(
    (p) => `The query sent with document id ${p.id} is not that document's text. Send the id alone.`,
    (p) => `Văn bản truy vấn gửi kèm mã tài liệu ${p.id} không phải là văn bản của tài liệu đó. Hãy chỉ gửi mã.`,
  ),
  RATE_LIMITED: say<{ perSecond: number; burst: number; retryAfterSeconds: number }>(
    (p) => `Too many requests: at most ${p.perSecond} a second (bursts of ${p.burst}). Retry in ${p.retryAfterSeconds} s.`,
    (p) => `Quá nhiều yêu cầu: tối đa ${p.perSecond} yêu cầu mỗi giây (tối đa ${p.burst} yêu cầu liên tiếp). Hãy thử lại sau ${p.retryAfterSeconds} giây.`,
  ),
  RATE_LIMITED_SHORT: say<{ retryAfterSeconds: number }>(
    (p) => `Too many requests. Retry in ${p.retryAfterSeconds} s.`,
    (p) => `Quá nhiều yêu cầu. Hãy thử lại sau ${p.retryAfterSeconds} giây.`,
  ),

  // --- Who is asking: tokens, purposes, the policy ----------------------------------------------------------
  TOKEN_MISSING: say(
    () => 'A bearer token is required: send Authorization: Bearer <token>.',
    () => 'Cần có bearer token: hãy gửi tiêu đề Authorization: Bearer <token>.',
  ),
  TOKEN_MALFORMED: say(
    () => 'The Authorization header must be "Bearer" followed by a JWT.',
    () => 'Tiêu đề Authorization phải là "Bearer" theo sau là một JWT.',
  ),
  TOKEN_EXPIRED: say(
    () => 'The token has expired; get a new one.',
    () => 'Token đã hết hạn; hãy lấy token mới.',
  ),
  TOKEN_CLAIM_REFUSED: say<{ claim: string }>(
    (p) => `The token's "${p.claim}" claim is missing or not acceptable here.`,
    (p) => `Trường "${p.claim}" của token bị thiếu hoặc không được chấp nhận tại đây.`,
  ),
  KEYS_UNAVAILABLE: say(
    () => 'The keys to verify tokens could not be fetched; retry later.',
    () => 'Không tải được khóa để kiểm tra token; hãy thử lại sau.',
  ),
  TOKEN_INVALID: say(
    () => 'The token is not valid (signature, algorithm or format).',
    () => 'Token không hợp lệ (chữ ký, thuật toán hoặc định dạng).',
  ),
  CLAIM_SUB: say(
    () => 'The token\'s "sub" must be 1 to 100 letters, digits, spaces or . _ : @ / -, starting with a letter or digit.',
    () => 'Trường "sub" của token phải gồm 1 đến 100 chữ cái, chữ số, dấu cách hoặc . _ : @ / -, bắt đầu bằng chữ cái hoặc chữ số.',
  ),
  CLAIM_ROLE: say(
    () => 'The token has no known "role" claim.',
    () => 'Token không có trường "role" nào được biết.',
  ),
  CLAIM_TIMES: say(
    () => 'The token must say when it was issued ("iat") and when it expires ("exp").',
    () => 'Token phải ghi thời điểm cấp ("iat") và thời điểm hết hạn ("exp").',
  ),
  CLAIM_LIFETIME: say<{ lifetime: number; maximum: number }>(
    (p) => `The token lives ${p.lifetime} s; at most ${p.maximum} s are accepted.`,
    (p) => `Token có thời hạn ${p.lifetime} giây; tối đa được chấp nhận là ${p.maximum} giây.`,
  ),
  CLAIM_AGENCY_REQUIRED: say<{ role: string }>(
    (p) => `A ${p.role.toLowerCase()}'s token must name their "agency" (lower-case letters, digits and -).`,
    (p) => `Token của vai trò ${p.role} phải ghi cơ quan ("agency": chữ thường, chữ số và -).`,
  ),
  CLAIM_AGENCY_FORBIDDEN: say<{ role: string }>(
    (p) => `A ${p.role.toLowerCase()}'s token must not name an "agency".`,
    (p) => `Token của vai trò ${p.role} không được ghi cơ quan ("agency").`,
  ),
  CLAIM_PERSONAL_CODE_REQUIRED: say(
    () => 'A citizen\'s token must carry their "personal_code" (12 digits).',
    () => 'Token của công dân phải mang số định danh cá nhân của họ ("personal_code", 12 chữ số).',
  ),
  CLAIM_PERSONAL_CODE_FORBIDDEN: say(
    () => 'Only a citizen\'s token carries a "personal_code".',
    () => 'Chỉ token của công dân mới mang "personal_code".',
  ),
  CLAIM_CASE_REF: say(
    () => 'The token\'s "case_ref" must be 1 to 64 letters, digits, spaces or . _ : / -.',
    () => 'Trường "case_ref" của token phải gồm 1 đến 64 chữ cái, chữ số, dấu cách hoặc . _ : / -.',
  ),
  CLAIM_PURPOSE: say(
    () => 'The token\'s "purpose" must be a purpose of use, or a list of them (SERVICE_COUNTER, CIVIL_REGISTRATION, …).',
    () => 'Trường "purpose" của token phải là một mục đích sử dụng, hoặc danh sách các mục đích (SERVICE_COUNTER, CIVIL_REGISTRATION, …).',
  ),
  PURPOSE_NOT_IN_TOKEN: say<{ purposes: string; asked: string }>(
    (p) => `The x-purpose header can only choose among the purposes the token allows (${p.purposes || 'none'}), not "${p.asked}".`,
    (p) => `Tiêu đề x-purpose chỉ được chọn trong các mục đích mà token cho phép (${p.purposes || 'không có'}), không phải "${p.asked}".`,
  ),
  CASE_REFERENCE_MISMATCH: say(
    () => 'The x-case-reference header differs from the case reference the token carries.',
    () => 'Tiêu đề x-case-reference khác với số hồ sơ vụ việc mà token mang.',
  ),
  CASE_REFERENCE_INVALID: say(
    () => 'The x-case-reference header must be 1 to 64 letters, digits, spaces or . _ : / -.',
    () => 'Tiêu đề x-case-reference phải gồm 1 đến 64 chữ cái, chữ số, dấu cách hoặc . _ : / -.',
  ),
  PURPOSE_REQUIRED: say<{ purposes: string }>(
    (p) => `Every request needs a purpose of use, carried by the token (its "purpose" claim): one of ${p.purposes}.`,
    (p) => `Mọi yêu cầu đều cần một mục đích sử dụng, do token mang (trường "purpose"): một trong ${p.purposes}.`,
  ),
  PURPOSE_UNKNOWN: say<{ purpose: string; purposes: string }>(
    (p) => `"${p.purpose}" is not a purpose of use; the purposes are ${p.purposes}.`,
    (p) => `"${p.purpose}" không phải là mục đích sử dụng; các mục đích là ${p.purposes}.`,
  ),
  PURPOSE_NOT_ALLOWED: say<{ role: string; purpose: string; purposes: string }>(
    (p) => `The role ${p.role} may not act for the purpose ${p.purpose}; it may for ${p.purposes}.`,
    (p) => `Vai trò ${p.role} không được truy cập với mục đích ${p.purpose}; vai trò này chỉ được dùng các mục đích ${p.purposes}.`,
  ),
  CASE_REFERENCE_REQUIRED: say<{ purpose: string }>(
    (p) => `Acting for ${p.purpose} needs the reference of the case or court order: the token's "case_ref" claim or the x-case-reference header.`,
    (p) => `Truy cập với mục đích ${p.purpose} cần số hồ sơ vụ án hoặc quyết định của tòa án: trường "case_ref" của token hoặc tiêu đề x-case-reference.`,
  ),
  FIELDS_NOT_ALLOWED: say<{ role: string; purpose: string; fields: string }>(
    (p) => `The role ${p.role} acting for ${p.purpose} may not see ${p.fields}. Nothing was fetched.`,
    (p) => `Vai trò ${p.role} với mục đích ${p.purpose} không được xem ${p.fields}. Chưa có dữ liệu nào được truy xuất.`,
  ),
  WRITE_NOT_ALLOWED: say<{ owner: string | null; field: string }>(
    (p) => `Only a registrar of the ${p.owner ?? 'owning'} agency, acting for CIVIL_REGISTRATION, may call ${p.field}.`,
    (p) => `Chỉ cán bộ đăng ký của cơ quan ${p.owner ?? 'quản lý dữ liệu'}, với mục đích CIVIL_REGISTRATION, mới được gọi ${p.field}.`,
  ),
  WRITE_NOT_ALLOWED_HERE: say<{ field: string }>(
    (p) => `Only a registrar of this agency, acting for CIVIL_REGISTRATION, may make this change (${p.field}).`,
    (p) => `Chỉ cán bộ đăng ký của cơ quan này, với mục đích CIVIL_REGISTRATION, mới được thực hiện thay đổi này (${p.field}).`,
  ),
  NOT_OWN_ROOT_FIELD: say<{ field: string }>(
    (p) => `A citizen may ask for their own record and access log only, not ${p.field}.`,
    (p) => `Công dân chỉ được hỏi hồ sơ và nhật ký truy cập của chính mình, không được hỏi ${p.field}.`,
  ),
  NOT_OWN_RECORD: say(
    () => 'A citizen may only ask for their own record.',
    () => 'Công dân chỉ được hỏi hồ sơ của chính mình.',
  ),
  NOT_OWN_RECORD_SEEN: say(
    () => 'A citizen may only see their own record.',
    () => 'Công dân chỉ được xem hồ sơ của chính mình.',
  ),
  NOT_OWN_RECORD_RELATIVES: say(
    () => 'A citizen may only see their own record, and the names and codes of their parents and children.',
    () => 'Công dân chỉ được xem hồ sơ của chính mình, cùng họ tên và số định danh của cha mẹ và con.',
  ),
  NOT_OWN_RELATIVES_FIELD: say<{ field: string }>(
    (p) => `${p.field} leads to persons other than the citizen's parents and children.`,
    (p) => `${p.field} dẫn đến những người khác ngoài cha mẹ và con của công dân.`,
  ),
  BEYOND_RELATIVES: say<{ fields: string }>(
    (p) => `A citizen sees their own record, and of their parents and children the name and personal code only; not ${p.fields}. Nothing was fetched.`,
    (p) => `Công dân được xem hồ sơ của chính mình, còn của cha mẹ và con thì chỉ họ tên và số định danh; không được xem ${p.fields}. Chưa có dữ liệu nào được truy xuất.`,
  ),
  ROLE_NOT_ALLOWED: say<{ field: string; roles: string[] }>(
    (p) => `${p.field} is for the role${p.roles.length > 1 ? 's' : ''} ${p.roles.join(', ')} only.`,
    (p) => `${p.field} chỉ dành cho vai trò ${p.roles.join(', ')}.`,
  ),
  FIELD_NOT_ALLOWED: say<{ field: string; classification: string; role: string; purpose: string | null }>(
    (p) => `${p.field} is ${p.classification} data, which the role ${p.role} may not see for ${p.purpose}.`,
    (p) => `${p.field} là dữ liệu loại ${p.classification}, vai trò ${p.role} không được xem với mục đích ${p.purpose}.`,
  ),
  OPERATION_NOT_ALLOWED: say<{ service: string; field: string }>(
    (p) => `The calling service (${p.service}) may not call ${p.field}.`,
    (p) => `Dịch vụ gọi đến (${p.service}) không được gọi ${p.field}.`,
  ),
  PRINCIPAL_REQUIRED: say(
    () => 'The credential of this call names no one it is made for, so nothing is answered.',
    () => 'Chứng thực của lần gọi này không nêu rõ gọi thay cho ai, nên không có dữ liệu nào được trả lời.',
  ),
  NOT_A_CITIZEN: say(
    () => 'myAccessLog is the log of the citizen calling; other roles search auditLog.',
    () => 'myAccessLog là nhật ký của chính công dân đang gọi; các vai trò khác tra cứu auditLog.',
  ),
  NOT_AN_AUDITOR: say(
    () => 'Only auditors search the audit log.',
    () => 'Chỉ kiểm toán viên mới được tra cứu nhật ký kiểm toán.',
  ),
  CREDENTIAL_POST_ONLY: say(
    () => 'This subgraph answers only POST requests whose body a credential covers.',
    () => 'Subgraph này chỉ trả lời yêu cầu POST có nội dung được một chứng thực bảo đảm.',
  ),
  CREDENTIAL_REQUIRED: say(
    () => 'This subgraph answers only the Citizen Graph gateway and agency services: a valid credential for it, for this request, is required.',
    () => 'Subgraph này chỉ trả lời cổng Citizen Graph và dịch vụ của các cơ quan: cần một chứng thực hợp lệ dành cho nó, cho đúng yêu cầu này.',
  ),
  REPLAY_CACHE_FULL: say(
    () => 'This subgraph has too many credentials in flight; retry shortly.',
    () => 'Subgraph này đang có quá nhiều chứng thực chờ xử lý; hãy thử lại sau giây lát.',
  ),
  REPLAY_CACHE_UNAVAILABLE: say(
    () => 'This subgraph cannot check credentials against replay right now; retry shortly.',
    () => 'Subgraph này hiện không kiểm tra được chứng thực có bị dùng lại hay không; hãy thử lại sau giây lát.',
  ),
  ACTOR_REQUIRED: say<{ header: string }>(
    (p) => `Writes must say who makes them: send the ${p.header} header.`,
    (p) => `Thao tác ghi phải nêu ai thực hiện: hãy gửi tiêu đề ${p.header}.`,
  ),
  ACTOR_INVALID: say<{ header: string }>(
    (p) => `The ${p.header} header must be 1 to 100 letters, digits, spaces or . _ : @ / -, starting with a letter or digit.`,
    (p) => `Tiêu đề ${p.header} phải gồm 1 đến 100 chữ cái, chữ số, dấu cách hoặc . _ : @ / -, bắt đầu bằng chữ cái hoặc chữ số.`,
  ),
  SERVICE_CREDENTIAL_REQUIRED: say(
    () => 'This operation is only for the services of other agencies.',
    () => 'Thao tác này chỉ dành cho dịch vụ của các cơ quan khác.',
  ),

  // --- Agencies that cannot answer, faults -------------------------------------------------------------------
  AGENCY_UNREACHABLE: say<{ agency?: string }>(
    (p) => {
      const agency = agencyWords(p.agency, 'en');
      return agency
        ? `The ${agency.title} did not answer, so its data (${agency.holds}) is missing from this response. The rest is complete; retry later for the missing part.`
        : 'One of the agencies did not answer, so part of this response is missing. Retry later.';
    },
    (p) => {
      const agency = agencyWords(p.agency, 'vi');
      return agency
        ? `${agency.title} không trả lời, nên dữ liệu của cơ quan này (${agency.holds}) bị thiếu trong kết quả. Phần còn lại đầy đủ; hãy thử lại sau để lấy phần còn thiếu.`
        : 'Một cơ quan không trả lời, nên một phần kết quả bị thiếu. Hãy thử lại sau.';
    },
  ),
  AGENCY_DATABASE_UNAVAILABLE: say<{ agency: string }>(
    (p) => {
      const agency = agencyWords(p.agency, 'en');
      return `The ${agency?.title ?? 'agency'} could not reach its database, so its data (${agency?.holds ?? 'part of this response'}) is missing here. Retry later.`;
    },
    (p) => {
      const agency = agencyWords(p.agency, 'vi');
      return `${agency?.title ?? 'Cơ quan'} không truy cập được cơ sở dữ liệu của mình, nên dữ liệu của cơ quan này (${agency?.holds ?? 'một phần kết quả'}) bị thiếu. Hãy thử lại sau.`;
    },
  ),
  AGENCY_BUSY: say<{ agency: string }>(
    (p) =>
      `The ${agencyWords(p.agency, 'en')?.title ?? 'agency'} could not complete this write in time: other writes to the same records were ahead of it. Retry later; a retry of a write that did complete finds it (a birth: with the same idempotency key).`,
    (p) =>
      `${agencyWords(p.agency, 'vi')?.title ?? 'Cơ quan'} chưa hoàn tất kịp thao tác ghi này: các thao tác ghi khác trên cùng hồ sơ đang xếp trước. Hãy thử lại sau; nếu thao tác đã hoàn tất thì lần thử lại sẽ nhận được kết quả đó (đăng ký khai sinh: dùng cùng khóa idempotencyKey).`,
  ),
  PARENTS_NOT_CONFIRMED: say<{ agency: string }>(
    (p) => `The ${agencyWords(p.agency, 'en')?.title} did not answer, so the parents could not be checked; nothing was registered. Retry later with the same idempotency key.`,
    (p) => `${agencyWords(p.agency, 'vi')?.title} không trả lời, nên chưa kiểm tra được cha mẹ; chưa có gì được đăng ký. Hãy thử lại sau với cùng khóa idempotencyKey.`,
  ),
  HOLDER_NOT_CONFIRMED: say<{ agency: string }>(
    (p) => `The ${agencyWords(p.agency, 'en')?.title} did not answer, so the card holder could not be confirmed and nothing was written. Retry later.`,
    (p) => `${agencyWords(p.agency, 'vi')?.title} không trả lời, nên chưa xác nhận được người được cấp thẻ và chưa có gì được ghi. Hãy thử lại sau.`,
  ),
  AUDIT_OFF: say(
    () => 'The access log is not kept on this deployment (AUDIT_RECORDING is off).',
    () => 'Hệ thống này không lưu nhật ký truy cập (AUDIT_RECORDING đang tắt).',
  ),
  AUDIT_UNAVAILABLE: say(
    () => 'The access could not be recorded, so no data is returned. Retry later.',
    () => 'Không ghi được nhật ký truy cập, nên không có dữ liệu nào được trả về. Hãy thử lại sau.',
  ),
  INTERNAL_SERVER_ERROR: say(
    () => 'Internal error. It has been logged; retry later or contact the operator.',
    () => 'Lỗi nội bộ. Lỗi đã được ghi lại; hãy thử lại sau hoặc liên hệ bộ phận vận hành.',
  ),

  // --- Bad input ----------------------------------------------------------------------------------------------
  INPUT_PROBLEM: say<{ where: Place; problem: string }>(
    (p) => `${place(p.where, 'en')}: ${p.problem}`,
    (p) => `${place(p.where, 'vi')}: ${p.problem}`,
  ),
  INPUTS_INVALID: say<{ count: number; problems: string }>(
    (p) => `${p.count} inputs are invalid: ${p.problems}`,
    (p) => `${p.count} giá trị đầu vào không hợp lệ: ${p.problems}`,
  ),
  STRING_TOO_LONG: say<{ where: Place; length: number; maximum: number }>(
    (p) => `${place(p.where, 'en')} is ${p.length} characters long; at most ${p.maximum} are accepted.`,
    (p) => `${place(p.where, 'vi')} dài ${p.length} ký tự; tối đa được chấp nhận là ${p.maximum}.`,
  ),
  PERSONAL_CODE_TYPE: say<{ type: string }>(
    (p) => `A personal code is a string of 12 digits; got ${p.type}.`,
    (p) => `Số định danh cá nhân là một chuỗi 12 chữ số; giá trị nhận được có kiểu ${p.type}.`,
  ),
  PERSONAL_CODE_FORMAT: say<{ shown: string; length: number }>(
    (p) => `A personal code is exactly 12 digits (PPP G YY RRRRRR); got "${p.shown}" (${p.length} characters).`,
    (p) => `Số định danh cá nhân gồm đúng 12 chữ số (PPP G YY RRRRRR); giá trị nhận được là "${p.shown}" (${p.length} ký tự).`,
  ),
  PERSONAL_CODE_PROVINCE: say<{ code: string; province: string }>(
    (p) => `Personal code "${p.code}" starts with "${p.province}", which is not a province code of the national code table.`,
    (p) => `Số định danh "${p.code}" bắt đầu bằng "${p.province}", không phải mã tỉnh trong bảng mã quốc gia.`,
  ),
  PERSONAL_CODE_CENTURY: say<{ year: number }>(
    (p) => `Year of birth ${p.year} is outside the years a personal code covers (1900–2399).`,
    (p) => `Năm sinh ${p.year} nằm ngoài khoảng năm mà số định danh cá nhân biểu diễn được (1900–2399).`,
  ),
  DATE_FORMAT: say<{ value: string }>(
    (p) => `A date is written YYYY-MM-DD; got ${p.value}.`,
    (p) => `Ngày được viết theo dạng YYYY-MM-DD; giá trị nhận được là ${p.value}.`,
  ),
  DATE_INVALID: say<{ value: string }>(
    (p) => `${p.value} is not a date of the calendar.`,
    (p) => `${p.value} không phải là một ngày có thật trên lịch.`,
  ),
  TIME_INVALID: say<{ argument: string }>(
    (p) => `\`${p.argument}\` must be a valid time.`,
    (p) => `\`${p.argument}\` phải là một thời điểm hợp lệ.`,
  ),
  DATE_IN_FUTURE: say<{ argument: string; date: string }>(
    (p) => `${p.argument} ${p.date} is in the future.`,
    (p) => `${p.argument} ${p.date} là một ngày trong tương lai.`,
  ),
  DATE_BEFORE: say<{ argument: string; date: string; what: LandmarkKey; whatParams?: { number: string }; earliest: string }>(
    (p) => `${p.argument} ${p.date} is before ${LANDMARKS[p.what].en(p.whatParams as never)} (${p.earliest}).`,
    (p) => `${p.argument} ${p.date} sớm hơn ${LANDMARKS[p.what].vi(p.whatParams as never)} (${p.earliest}).`,
  ),
  TOO_MANY_VALUES: say<{ argument: string; maximum: number; actual: number }>(
    (p) => `${p.argument} takes at most ${p.maximum} values; got ${p.actual}.`,
    (p) => `${p.argument} nhận tối đa ${p.maximum} giá trị; đã nhận ${p.actual}.`,
  ),
  PAGE_SIZE: say<{ argument: string; maximum: number; actual: unknown }>(
    (p) => `${p.argument} must be from 1 to ${p.maximum}; got ${p.actual}.`,
    (p) => `${p.argument} phải từ 1 đến ${p.maximum}; đã nhận ${p.actual}.`,
  ),
  UNKNOWN_PROVINCE: say<{ argument: string; value: string }>(
    (p) => `${p.argument} "${p.value}" is not a province code of the national code table (three digits, e.g. "001" for Hà Nội).`,
    (p) => `${p.argument} "${p.value}" không phải là mã tỉnh trong bảng mã quốc gia (ba chữ số, ví dụ "001" là Hà Nội).`,
  ),
  TEXT_REQUIRED: say<{ argument: string }>(
    (p) => `${p.argument} must not be empty.`,
    (p) => `${p.argument} không được để trống.`,
  ),
  TEXT_TOO_LONG: say<{ argument: string; maximum: number; actual: number }>(
    (p) => `${p.argument} is at most ${p.maximum} characters; got ${p.actual}.`,
    (p) => `${p.argument} dài tối đa ${p.maximum} ký tự; đã nhận ${p.actual}.`,
  ),
  NATIONALITY_FORMAT: say<{ argument: string; value: string }>(
    (p) => `${p.argument} is an ISO 3166 alpha-2 country code such as "VN"; got "${p.value}".`,
    (p) => `${p.argument} là mã quốc gia ISO 3166 alpha-2, ví dụ "VN"; đã nhận "${p.value}".`,
  ),
  CARD_NUMBER_FORMAT: say<{ value: string }>(
    (p) => `An identity card number is 12 digits (citizen identity card or chip card) or 9 digits (legacy ID); got "${p.value}".`,
    (p) => `Số thẻ căn cước gồm 12 chữ số (căn cước công dân hoặc thẻ gắn chip) hoặc 9 chữ số (chứng minh nhân dân cũ); đã nhận "${p.value}".`,
  ),
  BAD_CURSOR: say<{ argument: string }>(
    (p) => `\`${p.argument}\` is not a cursor this search returned.`,
    (p) => `\`${p.argument}\` không phải là con trỏ do lần tìm kiếm này trả về.`,
  ),
  AUDIT_PERSONAL_CODE_FORMAT: say(
    () => '`personalCode` must be 12 digits.',
    () => '`personalCode` phải gồm 12 chữ số.',
  ),
  AUDIT_PAGE_SIZE: say<{ maximum: number; actual: unknown }>(
    (p) => `\`first\` must be a whole number from 1 to ${p.maximum}; got ${p.actual}.`,
    (p) => `\`first\` phải là số nguyên từ 1 đến ${p.maximum}; đã nhận ${p.actual}.`,
  ),
  NO_FILTER: say(
    () => 'Give at least one of name, dateOfBirth, birthProvince or residenceProvince.',
    () => 'Hãy cho ít nhất một trong các điều kiện name, dateOfBirth, birthProvince hoặc residenceProvince.',
  ),
  NAME_TOO_SHORT: say<{ minimum: number }>(
    (p) => `name needs at least ${p.minimum} letters (the start of a name or of any of its words).`,
    (p) => `name cần ít nhất ${p.minimum} chữ cái (phần đầu của tên hoặc của một từ bất kỳ trong tên).`,
  ),
  NAME_CHARACTERS: say(
    () => 'name must not contain control characters or lone UTF-16 surrogates.',
    () => 'name không được chứa ký tự điều khiển hoặc nửa cặp thay thế UTF-16 đơn lẻ.',
  ),
  NAME_TOO_LONG: say<{ maximum: number; actual: number }>(
    (p) => `name takes at most ${p.maximum} characters; got ${p.actual}.`,
    (p) => `name dài tối đa ${p.maximum} ký tự; đã nhận ${p.actual}.`,
  ),
  NO_DIMENSION: say(
    () => 'groupBy needs at least one of PROVINCE, SEX, BIRTH_DECADE.',
    () => 'groupBy cần ít nhất một trong PROVINCE, SEX, BIRTH_DECADE.',
  ),

  // --- Statistics (subgraphs/statistics) ------------------------------------------------------------------------
  STATISTICS_NO_DIMENSION: say<{ dimensions: string }>(
    (p) => `groupBy needs at least one dimension: ${p.dimensions}.`,
    (p) => `groupBy cần ít nhất một chiều: ${p.dimensions}.`,
  ),
  STATISTICS_REPEATED_DIMENSION: say<{ dimension: string }>(
    (p) => `groupBy names ${p.dimension} twice.`,
    (p) => `groupBy có ${p.dimension} hai lần.`,
  ),
  STATISTICS_REPEATED_FILTER: say<{ dimension: string }>(
    (p) => `filter names ${p.dimension} twice; give all its values in one entry.`,
    (p) => `filter có ${p.dimension} hai lần; hãy đưa mọi giá trị vào một mục.`,
  ),
  STATISTICS_EMPTY_FILTER: say<{ dimension: string }>(
    (p) => `The filter on ${p.dimension} needs at least one value.`,
    (p) => `Bộ lọc theo ${p.dimension} cần ít nhất một giá trị.`,
  ),
  UNKNOWN_FILTER_VALUE: say<{ dimension: string; value: string; expected: string }>(
    (p) => `"${p.value}" is not a value of ${p.dimension} (expected ${p.expected}).`,
    (p) => `"${p.value}" không phải là một giá trị của ${p.dimension} (cần ${p.expected}).`,
  ),
  DATE_TOO_EARLY: say<{ argument: string; date: string; earliest: string }>(
    (p) => `${p.argument} ${p.date} is before ${p.earliest}, where the statistics begin.`,
    (p) => `${p.argument} ${p.date} sớm hơn ${p.earliest}, ngày bắt đầu của số liệu thống kê.`,
  ),
  TOO_MANY_CELLS: say<{ maximum: number; actual: number }>(
    (p) => `This grouping could produce ${p.actual} cells; at most ${p.maximum} are allowed. Group by fewer dimensions or filter.`,
    (p) => `Cách nhóm này có thể tạo ra ${p.actual} ô; tối đa là ${p.maximum}. Hãy nhóm theo ít chiều hơn hoặc lọc bớt.`,
  ),
  SENSITIVE_DIMENSION_NOT_ALLOWED: say<{ dimension: string; role: string; purpose: string }>(
    (p) => `${p.dimension} is sensitive data: ${p.role} acting for ${p.purpose} may not group or filter by it.`,
    (p) => `${p.dimension} là dữ liệu nhạy cảm: ${p.role} với mục đích ${p.purpose} không được nhóm hoặc lọc theo chiều này.`,
  ),
  QUERY_BUDGET_EXHAUSTED: say<{ budget: number; periodSeconds: number; retryAfterSeconds: number }>(
    (p) => `Your budget of ${p.budget} statistics tables per ${p.periodSeconds} s is used up. Retry in ${p.retryAfterSeconds} s.`,
    (p) => `Bạn đã dùng hết hạn mức ${p.budget} bảng thống kê trong ${p.periodSeconds} giây. Hãy thử lại sau ${p.retryAfterSeconds} giây.`,
  ),
  STATISTICS_NOT_BUILT: say(
    () => 'The statistics are being built for the first time; retry in a few minutes.',
    () => 'Số liệu thống kê đang được xây dựng lần đầu; hãy thử lại sau vài phút.',
  ),

  // --- Writes ---------------------------------------------------------------------------------------------------
  PARENT_IDENTITY_REQUIRED: say<{ argument: string }>(
    (p) => `${p.argument} needs a personalCode, or a name and a nationality.`,
    (p) => `${p.argument} cần có personalCode, hoặc họ tên và quốc tịch.`,
  ),
  IDEMPOTENCY_KEY_FORMAT: say(
    () => 'input.idempotencyKey is 8 to 100 letters, digits or - _ . : (a UUID, say), made once per birth.',
    () => 'input.idempotencyKey gồm 8 đến 100 chữ cái, chữ số hoặc - _ . : (chẳng hạn một UUID), tạo một lần cho mỗi ca khai sinh.',
  ),
  IDEMPOTENCY_KEY_REUSED: say(
    () => 'This idempotency key was already used to register a different birth; make a new key for each birth.',
    () => 'Khóa idempotencyKey này đã được dùng để đăng ký một ca khai sinh khác; hãy tạo khóa mới cho mỗi ca khai sinh.',
  ),
  PARENT_NOT_FOUND: say<{ code: string; role: ParentRole }>(
    (p) => `No citizen has the personal code ${p.code} given for the ${p.role}.`,
    (p) => `Không có công dân nào mang số định danh ${p.code} được khai cho ${PARENT_WORDS[p.role]}.`,
  ),
  PARENT_CODE_CANCELLED: say<{ code: string; role: ParentRole; current: string }>(
    (p) => `The ${p.role}'s code ${p.code} was cancelled and replaced by ${p.current}.`,
    (p) => `Số định danh ${p.code} của ${PARENT_WORDS[p.role]} đã bị hủy và thay bằng ${p.current}.`,
  ),
  DATE_BEFORE_PARENT_BIRTH: say<{ date: string; role: ParentRole; parentDate: string }>(
    (p) => `The child's date of birth ${p.date} is not after the ${p.role}'s (${p.parentDate}).`,
    (p) => `Ngày sinh của trẻ ${p.date} không sau ngày sinh của ${PARENT_WORDS[p.role]} (${p.parentDate}).`,
  ),
  PARENT_DECEASED: say<{ code: string; role: ParentRole; died: string }>(
    (p) => `The ${p.role} (${p.code}) died on ${p.died}, before this birth could be theirs.`,
    (p) => `Người ${PARENT_WORDS[p.role]} (${p.code}) đã mất ngày ${p.died}, trước khi trẻ này có thể là con của họ.`,
  ),
  CARD_KIND_LEGACY: say(
    () => 'A legacy ID card (CMND, 9 digits) is never issued again: issue a chip card (CHIP_ID), whose number is the personal code.',
    () => 'Chứng minh nhân dân (CMND, 9 số) không còn được cấp: hãy cấp thẻ căn cước gắn chip (CHIP_ID), có số thẻ là số định danh cá nhân.',
  ),
  CARD_KIND_NO_CHIP: say(
    () => 'Citizen identity cards without a chip are no longer issued: issue a chip card (CHIP_ID).',
    () => 'Thẻ căn cước công dân không gắn chip không còn được cấp: hãy cấp thẻ gắn chip (CHIP_ID).',
  ),
  CITIZEN_NOT_FOUND: say<{ code: string }>(
    (p) => `No citizen has the personal code ${p.code}.`,
    (p) => `Không có công dân nào mang số định danh ${p.code}.`,
  ),
  PERSONAL_CODE_CANCELLED: say<{ code: string; current: string }>(
    (p) => `The personal code ${p.code} was cancelled and replaced by ${p.current}; make changes under the code in force.`,
    (p) => `Số định danh ${p.code} đã bị hủy và thay bằng ${p.current}; hãy thực hiện thay đổi theo số đang có hiệu lực.`,
  ),
  CARD_HOLDER_CODE_CANCELLED: say<{ code: string; current: string }>(
    (p) => `The personal code ${p.code} was cancelled; the citizen's code is now ${p.current}. Card writes name the code in force.`,
    (p) => `Số định danh ${p.code} đã bị hủy; số của công dân hiện là ${p.current}. Thao tác về thẻ phải dùng số đang có hiệu lực.`,
  ),
  CITIZEN_DECEASED: say<{ code: string; died: string }>(
    (p) => `The citizen ${p.code} died on ${p.died}.`,
    (p) => `Công dân ${p.code} đã mất ngày ${p.died}.`,
  ),
  CITIZEN_DECEASED_NO_CARD: say<{ code: string; died: string }>(
    (p) => `The citizen ${p.code} died on ${p.died}: a deceased citizen cannot be given a card.`,
    (p) => `Công dân ${p.code} đã mất ngày ${p.died}: không thể cấp thẻ cho người đã mất.`,
  ),
  DEATH_ALREADY_RECORDED: say<{ code: string; died: string }>(
    (p) => `The death of ${p.code} was already recorded (${p.died}).`,
    (p) => `Công dân ${p.code} đã được ghi nhận là đã mất (${p.died}).`,
  ),
  NO_VALID_CARD: say<{ code: string }>(
    (p) => `The citizen ${p.code} has no valid identity card.`,
    (p) => `Công dân ${p.code} không có thẻ căn cước còn hiệu lực.`,
  ),
  CARD_ALREADY_VALID: say<{ code: string; number?: string; issued?: string }>(
    (p) =>
      p.number
        ? `The citizen ${p.code} already has a valid identity card (${p.number}, issued ${p.issued}): replace it instead.`
        : `The citizen ${p.code} already has a valid identity card: replace it instead.`,
    (p) =>
      p.number
        ? `Công dân ${p.code} đã có thẻ căn cước còn hiệu lực (${p.number}, cấp ngày ${p.issued}): hãy làm thủ tục đổi thẻ.`
        : `Công dân ${p.code} đã có thẻ căn cước còn hiệu lực: hãy làm thủ tục đổi thẻ.`,
  ),
  CODE_BLOCK_EXHAUSTED: say<{ province: string; sex: Sex; year: number; block: string }>(
    (p) => `All 1,000,000 personal codes for province ${p.province}, ${SEX_WORDS.en[p.sex]}, born ${p.year} (block ${p.block}) have been issued.`,
    (p) => `Toàn bộ 1.000.000 số định danh cho tỉnh ${p.province}, giới tính ${SEX_WORDS.vi[p.sex]}, sinh năm ${p.year} (khối ${p.block}) đã được cấp hết.`,
  ),
  CODE_ISSUANCE_CONTENDED: say<{ block: string }>(
    (p) => `Could not issue a code in block ${p.block} now: too many concurrent issuances. Retry.`,
    (p) => `Hiện không cấp được số trong khối ${p.block}: có quá nhiều lượt cấp số đồng thời. Hãy thử lại.`,
  ),
  SEX_UNCHANGED: say<{ sex: Sex }>(
    (p) => `A re-issue for a sex change needs input.sex different from the record's (${SEX_WORDS.en[p.sex]}).`,
    (p) => `Cấp lại số do thay đổi giới tính cần input.sex khác với giới tính trong hồ sơ (${SEX_WORDS.vi[p.sex]}).`,
  ),
  BIRTH_YEAR_UNCHANGED: say<{ year: number }>(
    (p) => `A re-issue for a birth-year correction needs input.dateOfBirth in another year than ${p.year}.`,
    (p) => `Cấp lại số do cải chính năm sinh cần input.dateOfBirth thuộc một năm khác ${p.year}.`,
  ),
  HOUSEHOLD_NOT_FOUND: say<{ number: string }>(
    (p) => `There is no household number ${p.number}.`,
    (p) => `Không có hộ gia đình số ${p.number}.`,
  ),
  ALREADY_IN_HOUSEHOLD: say<{ code: string; number: string }>(
    (p) => `The citizen ${p.code} is a member of household ${p.number}; they must leave it first.`,
    (p) => `Công dân ${p.code} đang là thành viên hộ ${p.number}; phải rời hộ đó trước.`,
  ),
  HEAD_ONE_PER_HOUSEHOLD: say<{ argument: string }>(
    (p) => `${p.argument} cannot be HEAD: a household has one head; use changeHouseholdHead.`,
    (p) => `${p.argument} không thể là HEAD: mỗi hộ chỉ có một chủ hộ; hãy dùng changeHouseholdHead.`,
  ),
  HEAD_NO_LONGER_HEAD: say<{ argument: string }>(
    (p) => `${p.argument} cannot be HEAD: the previous head is no longer the head.`,
    (p) => `${p.argument} không thể là HEAD: chủ hộ cũ không còn là chủ hộ.`,
  ),
  HOUSEHOLD_DISSOLVED: say<{ number: string }>(
    (p) => `Household ${p.number} was dissolved: it has no members and cannot be joined.`,
    (p) => `Hộ ${p.number} đã giải thể: không còn thành viên và không thể nhập vào.`,
  ),
  NOT_IN_HOUSEHOLD: say<{ code: string }>(
    (p) => `The citizen ${p.code} is not a member of any household.`,
    (p) => `Công dân ${p.code} không là thành viên của hộ gia đình nào.`,
  ),
  HEAD_CANNOT_LEAVE: say<{ code: string; number: string; others: number }>(
    (p) => `The citizen ${p.code} is the head of household ${p.number}, which has ${p.others} other member(s): change the head first.`,
    (p) => `Công dân ${p.code} là chủ hộ ${p.number}, hộ còn ${p.others} thành viên khác: hãy đổi chủ hộ trước.`,
  ),
  ALREADY_HEAD: say<{ code: string; number: string }>(
    (p) => `The citizen ${p.code} is already the head of household ${p.number}.`,
    (p) => `Công dân ${p.code} đã là chủ hộ ${p.number}.`,
  ),
  NOT_A_MEMBER: say<{ code: string; number: string }>(
    (p) => `The citizen ${p.code} is not a current member of household ${p.number}.`,
    (p) => `Công dân ${p.code} hiện không là thành viên hộ ${p.number}.`,
  ),
  END_NOT_AFTER_START: say<{ to: string; from: string }>(
    (p) => `to ${p.to} must be after from ${p.from}.`,
    (p) => `to ${p.to} phải sau from ${p.from}.`,
  ),
  RESIDENCE_ID_FORMAT: say<{ id: string }>(
    (p) => `residenceId "${p.id}" is not a residence registration id (the id of a Residence).`,
    (p) => `residenceId "${p.id}" không phải là mã đăng ký cư trú (id của một Residence).`,
  ),
  RESIDENCE_NOT_FOUND: say<{ code: string; id: string }>(
    (p) => `The citizen ${p.code} has no residence registration ${p.id}.`,
    (p) => `Công dân ${p.code} không có đăng ký cư trú ${p.id}.`,
  ),
  RESIDENCE_NOT_ACTIVE: say<{ id: string }>(
    (p) => `The residence registration ${p.id} has already ended.`,
    (p) => `Đăng ký cư trú ${p.id} đã kết thúc.`,
  ),
  CONCURRENT_CHANGE: say(
    () => 'Another change to the same records was being made at the same time; retry.',
    () => 'Có một thay đổi khác trên cùng hồ sơ đang diễn ra cùng lúc; hãy thử lại.',
  ),

  // --- What a personal code says, compared with the record (PersonalCodeCheck.discrepancyDetails) -------------
  SEX_MISMATCH: say<{ codeSex: Sex; digit: string; recordSex: Sex }>(
    (p) => `The code says ${SEX_WORDS.en[p.codeSex]} (digit G = ${p.digit}); the record says ${SEX_WORDS.en[p.recordSex]}.`,
    (p) => `Số định danh ghi giới tính ${SEX_WORDS.vi[p.codeSex]} (chữ số G = ${p.digit}); hồ sơ ghi ${SEX_WORDS.vi[p.recordSex]}.`,
  ),
  BIRTH_YEAR_MISMATCH: say<{ codeYear: number; digits: string; recordYear: number }>(
    (p) => `The code says born in ${p.codeYear} (G YY = ${p.digits}); the record says ${p.recordYear}.`,
    (p) => `Số định danh ghi năm sinh ${p.codeYear} (G YY = ${p.digits}); hồ sơ ghi năm ${p.recordYear}.`,
  ),
} as const;

export type MessageKey = keyof typeof MESSAGES;
export type MessageParams<K extends MessageKey> = Parameters<(typeof MESSAGES)[K]['en']>[0];
type ParamsArgument<K extends MessageKey> = [MessageParams<K>] extends [None | undefined] ? [params?: MessageParams<K>] : [params: MessageParams<K>];

export const isMessageKey = (key: unknown): key is MessageKey => typeof key === 'string' && Object.hasOwn(MESSAGES, key);

/** The message in the language of the request being served (lib/i18n/language.ts). */
export function message<K extends MessageKey>(key: K, ...[params]: ParamsArgument<K>): string {
  return messageIn(currentLanguage(), key, ...([params] as ParamsArgument<K>));
}

/** The message in a given language (where the request's language is known but not current: Express error handlers). */
export function messageIn<K extends MessageKey>(language: Language, key: K, ...[params]: ParamsArgument<K>): string {
  const render = MESSAGES[key][language] as Render<MessageParams<K>>;
  return render((params ?? {}) as MessageParams<K>);
}
