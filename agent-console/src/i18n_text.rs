//! Every string of the console, English then Brazilian Portuguese.

macro_rules! strings {
    ($($key:ident => $en:literal, $pt:literal;)*) => {
        /// A translatable string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum T { $($key,)* }

        impl T {
            pub const ALL: &'static [T] = &[$(T::$key,)*];

            /// (English, Português do Brasil).
            pub fn pair(self) -> (&'static str, &'static str) {
                match self { $(T::$key => ($en, $pt),)* }
            }
        }
    };
}

strings! {
    // Signing in and the top bar.
    SignInTitle => "Sign in to switchboard", "Entrar no switchboard";
    Email => "E-mail", "E-mail";
    Password => "Password", "Senha";
    SignIn => "Sign in", "Entrar";
    SigningIn => "Signing in…", "Entrando…";
    SignOut => "Sign out", "Sair";
    Conversations => "Conversations", "Conversas";
    Settings => "Settings", "Configurações";
    Profile => "Profile", "Perfil";
    Availability => "Availability", "Disponibilidade";
    Available => "Available", "Disponível";
    Busy => "Busy", "Ocupado";
    Offline => "Offline", "Offline";
    Live => "Live", "Ao vivo";
    Reconnecting => "Reconnecting…", "Reconectando…";
    Loading => "Loading…", "Carregando…";
    NoAccount => "Your user does not belong to any account.", "Seu usuário não pertence a nenhuma conta.";
    NetworkError => "Could not reach the server. Check your connection.", "Não foi possível falar com o servidor. Verifique sua conexão.";
    UnexpectedAnswer => "The server sent an answer the console does not understand.", "O servidor enviou uma resposta que o console não entende.";
    // Lists.
    Mine => "Mine", "Minhas";
    Unassigned => "Unassigned", "Não atribuídas";
    All => "All", "Todas";
    Status => "Status", "Status";
    Inbox => "Inbox", "Caixa de entrada";
    AllInboxes => "All inboxes", "Todas as caixas de entrada";
    Open => "Open", "Aberta";
    Pending => "Pending", "Pendente";
    Snoozed => "Snoozed", "Adiada";
    Resolved => "Resolved", "Resolvida";
    NoConversations => "No conversations here.", "Nenhuma conversa aqui.";
    LoadMore => "Load more", "Carregar mais";
    Nobody => "Unassigned", "Sem responsável";
    NoMessagesYet => "No messages yet", "Nenhuma mensagem ainda";
    WaitingFor => "Waiting for", "Esperando há";
    QueuePosition => "#{n} in queue", "{n}º na fila";
    // The conversation.
    PickConversation => "Pick a conversation from the list.", "Escolha uma conversa na lista.";
    Back => "Back", "Voltar";
    LoadOlder => "Load older messages", "Carregar mensagens anteriores";
    ReplyPlaceholder => "Write a reply… (Enter sends, Shift+Enter adds a line)", "Escreva uma resposta… (Enter envia, Shift+Enter nova linha)";
    NotePlaceholder => "Write a private note: only agents see it", "Escreva uma nota privada: só os agentes veem";
    PrivateNote => "Private note", "Nota privada";
    Send => "Send", "Enviar";
    AddNote => "Add note", "Adicionar nota";
    IsTyping => "{name} is typing…", "{name} está digitando…";
    IsWritingNote => "{name} is writing a note…", "{name} está escrevendo uma nota…";
    Visitor => "The visitor", "O visitante";
    Sending => "Sending…", "Enviando…";
    NotSent => "Not sent. Click to try again.", "Não enviada. Clique para tentar de novo.";
    Attach => "Attach files", "Anexar arquivos";
    TooManyFiles => "At most 10 files per message.", "No máximo 10 arquivos por mensagem.";
    FileTooLarge => "A file is larger than 25 MB:", "Um arquivo tem mais de 25 MB:";
    FileEmpty => "A file is empty:", "Um arquivo está vazio:";
    DeliveryFailed => "Not delivered:", "Não entregue:";
    You => "You", "Você";
    Take => "Take", "Assumir";
    Resolve => "Resolve", "Resolver";
    Reopen => "Reopen", "Reabrir";
    Snooze => "Snooze", "Adiar";
    ConversationActions => "Conversation actions", "Ações da conversa";
    Assignee => "Assigned agent", "Responsável";
    NoneOption => "None", "Nenhum";
    AssignToMe => "Assign to me", "Atribuir a mim";
    Contact => "Contact", "Contato";
    Phone => "Phone", "Telefone";
    Identifier => "Identifier", "Identificador";
    CustomAttributes => "Custom attributes", "Atributos personalizados";
    OpenInCrm => "Open in CRM", "Abrir no CRM";
    CrmOpenPerson => "open person", "abrir pessoa";
    CrmOpenOrganization => "open organization", "abrir empresa";
    CrmOpenDeal => "open deal", "abrir negócio";
    CrmSyncing => "syncing…", "sincronizando…";
    CrmSyncFailed => "sync failed", "falha na sincronização";
    Retry => "Retry", "Tentar de novo";
    EditContact => "Edit contact", "Editar contato";
    TakenByAnotherContact => "{field}: already used by another contact", "{field}: já usado por outro contato";
    EmailOrIdentifierTaken => "Another contact already has this e-mail or identifier.", "Outro contato já usa este e-mail ou identificador.";
    PhoneFormatHelp => "International form, like +55 11 99999-0000.", "No formato internacional, como +55 11 99999-0000.";
    NotFound => "This conversation no longer exists.", "Esta conversa não existe mais.";
    PresenceOnline => "online", "online";
    PresenceBusy => "busy", "ocupado";
    PresenceOffline => "offline", "offline";
    AssignedToYou => "Conversation assigned to you", "Conversa atribuída a você";
    // WhatsApp's 24-hour window and templates.
    WindowClosed => "The customer has not written in the last 24 hours: WhatsApp takes only an approved template now. Private notes are still possible.", "O cliente não escreve há mais de 24 horas: agora o WhatsApp só aceita um modelo aprovado. Notas privadas continuam possíveis.";
    TemplateAction => "Template", "Modelo";
    SendTemplate => "Send a template", "Enviar um modelo";
    SyncTemplates => "Sync templates", "Sincronizar modelos";
    SyncingTemplates => "Syncing…", "Sincronizando…";
    TemplatesSynced => "Synced {when}", "Sincronizados: {when}";
    TemplatesNeverSynced => "Not synced yet", "Ainda não sincronizados";
    TemplateSyncFailed => "Could not sync the templates:", "Não foi possível sincronizar os modelos:";
    NoTemplates => "No approved templates yet. Sync them from WhatsApp.", "Nenhum modelo aprovado ainda. Sincronize-os com o WhatsApp.";
    NoTemplateMatches => "No template matches.", "Nenhum modelo encontrado.";
    SearchTemplates => "Search templates", "Pesquisar modelos";
    OtherTemplates => "Other templates", "Outros modelos";
    TemplateValues => "Variables", "Variáveis";
    TemplateVariable => "Variable {n}", "Variável {n}";
    TemplatePreview => "Preview", "Pré-visualização";
    TemplateFillAll => "Fill in every variable to send.", "Preencha todas as variáveis para enviar.";
    WriteMessage => "Write a message instead", "Escrever uma mensagem";
    UnsupportedMediaHeader => "needs an image or file in its header, which the console cannot send yet", "precisa de imagem ou arquivo no cabeçalho, que o console ainda não envia";
    UnsupportedHeaderParameter => "has a variable in its header, which the console cannot send yet", "tem variável no cabeçalho, que o console ainda não envia";
    UnsupportedButtonParameter => "has a button that takes a variable, which the console cannot send yet", "tem botão com variável, que o console ainda não envia";
    UnsupportedNamedParameter => "uses named variables, which the console cannot send yet", "usa variáveis com nome, que o console ainda não envia";
    // Settings.
    Inboxes => "Inboxes", "Caixas de entrada";
    Agents => "Agents", "Agentes";
    Website => "Website", "Site";
    Api => "API", "API";
    Whatsapp => "WhatsApp", "WhatsApp";
    Collaborators => "Collaborators", "Colaboradores";
    CollaboratorsHelp => "The agents who answer this inbox's conversations.", "Os agentes que atendem as conversas desta caixa de entrada.";
    NoCollaborators => "No collaborators yet.", "Nenhum colaborador ainda.";
    Add => "Add", "Adicionar";
    Remove => "Remove", "Remover";
    ConversationAssignment => "Conversation assignment", "Atribuição de conversa";
    AssignmentHelp => "New conversations go straight to a collaborator's Mine list instead of waiting in Unassigned.", "As novas conversas vão direto para a caixa pessoal de um colaborador, em vez de cair em Não atribuídas.";
    EnableAssignment => "Assign new conversations automatically", "Distribuir novas conversas automaticamente";
    MaxPerAgent => "Maximum conversations per agent", "Quantidade máxima de conversas por agente";
    MaxHelp => "Past it, new conversations wait in Unassigned. Leave empty for no limit.", "Acima dela, as novas conversas ficam em Não atribuídas. Deixe vazio para não ter limite.";
    Policy => "How conversations are spread", "Como as conversas são distribuídas";
    RoundRobin => "Round robin: take turns", "Rodízio: cada um na sua vez";
    Balanced => "Balanced: fewest open conversations first", "Equilibrada: quem tem menos conversas abertas";
    FromQueue => "Hand waiting conversations to whoever gets room (oldest first)", "Entregar as conversas em espera a quem tiver vaga (mais antigas primeiro)";
    OfflineRule => "When an agent goes offline", "Quando um agente fica offline";
    OfflineKeep => "They keep their conversations", "Continua com as conversas";
    OfflineRequeue => "Their open conversations return to the queue", "As conversas abertas voltam para a fila";
    Grace => "After (seconds away)", "Depois de (segundos ausente)";
    Reassign => "Move a conversation on when its agent has not replied in (seconds)", "Passar a conversa adiante se o agente não responder em (segundos)";
    ReassignHelp => "Leave empty to never move it.", "Deixe vazio para nunca passar adiante.";
    Save => "Save", "Salvar";
    Saved => "Saved.", "Salvo.";
    MustBePositive => "{field}: a whole number above 0, or empty", "{field}: um número inteiro maior que 0, ou vazio";
    WidgetScript => "Widget script", "Script do widget";
    WidgetHelp => "Paste it before </body> on your website.", "Cole antes de </body> no seu site.";
    Copy => "Copy", "Copiar";
    Copied => "Copied.", "Copiado.";
    NewInbox => "New inbox", "Nova caixa de entrada";
    InboxName => "Inbox name", "Nome da caixa de entrada";
    WebsiteUrl => "Website URL", "URL do site";
    WelcomeTitle => "Welcome title", "Título de boas-vindas";
    WelcomeTagline => "Welcome tagline", "Mensagem de boas-vindas";
    WidgetColor => "Colour", "Cor";
    Create => "Create", "Criar";
    Name => "Name", "Nome";
    Role => "Role", "Função";
    Agent => "Agent", "Agente";
    Administrator => "Administrator", "Administrador";
    NewAgent => "Add an agent", "Adicionar agente";
    PasswordOptional => "Password (optional: they cannot sign in without one)", "Senha (opcional: sem ela o agente não consegue entrar)";
    ConfirmRemove => "Click again to remove", "Clique de novo para remover";
    // An inbox's Settings block.
    ChatWindow => "Chat window", "Janela de chat";
    PreChatForm => "Pre-chat form", "Formulário pré-chat";
    PreChatEnabled => "Ask for the visitor's name and e-mail before the chat starts", "Pedir o nome e o e-mail do visitante antes de começar o chat";
    PreChatMessage => "Pre-chat message", "Mensagem do formulário pré-chat";
    IdentityVerification => "Identity verification", "Verificação de identidade";
    HmacToken => "HMAC token", "Token HMAC";
    HmacHelp => "Your website's server signs each signed-in user's identifier with this key: identifier_hash is the hex HMAC-SHA256 of the identifier.", "O servidor do seu site assina o identificador de cada usuário logado com esta chave: identifier_hash é o HMAC-SHA256 em hex do identificador.";
    HmacMandatory => "Enforce identity verification: refuse identifiers that are not signed", "Exigir verificação de identidade: recusar identificadores sem assinatura";
    DeleteInbox => "Delete inbox", "Excluir caixa de entrada";
    DeleteInboxHelp => "Deletes the inbox with all its conversations and their messages, its collaborators and the webhooks limited to it. Its contacts stay. This cannot be undone.", "Exclui a caixa de entrada com todas as suas conversas e mensagens, os colaboradores e os webhooks só dela. Os contatos continuam. Não há como desfazer.";
    // Settings → Integrations.
    Integrations => "Integrations", "Integrações";
    AgendorHelp => "Send the contacts of your conversations to Agendor, with a deal and a note if you like.", "Envie os contatos das suas conversas para o Agendor, com um negócio e uma anotação se quiser.";
    Connected => "Connected", "Conectado";
    NotConnected => "Not connected", "Não conectado";
    Disabled => "Disabled", "Desativado";
    IntegrationEnabled => "Enabled: send new contacts to Agendor", "Ativada: enviar novos contatos ao Agendor";
    ApiToken => "API token", "Token da API";
    ApiTokenHelp => "In Agendor: Menu → Integrações → Token de API.", "No Agendor: Menu → Integrações → Token de API.";
    TokenStored => "A token is saved ({hint}). Leave empty to keep it.", "Há um token salvo ({hint}). Deixe vazio para mantê-lo.";
    TokenRequired => "Paste your Agendor API token to connect.", "Cole o token da API do Agendor para conectar.";
    BaseUrl => "API address", "Endereço da API";
    MustBeUrl => "{field}: an address starting with https://", "{field}: um endereço começando com https://";
    WhichInboxes => "Inboxes", "Caixas de entrada";
    WhichInboxesHelp => "None ticked: every inbox.", "Nenhuma marcada: todas as caixas de entrada.";
    ContactType => "Create the contact as", "Criar o contato como";
    Person => "Person", "Pessoa";
    Organization => "Organization", "Empresa";
    CreateDeal => "Create a deal", "Criar um negócio";
    DealTitle => "Deal title", "Título do negócio";
    FunnelId => "Funnel id (empty: the default funnel)", "Id do funil (vazio: o funil padrão)";
    DealStage => "Stage (1 = the funnel's first)", "Etapa (1 = a primeira do funil)";
    AddCrmNote => "Add a note to the contact", "Adicionar uma anotação ao contato";
    NoteText => "Note", "Anotação";
    TemplateVariables => "You can use:", "Você pode usar:";
    Disconnect => "Disconnect", "Desconectar";
    ConfirmDisconnect => "Click again to disconnect", "Clique de novo para desconectar";
    Disconnected => "Disconnected.", "Desconectado.";
    LastSuccess => "Last success: {time}", "Último sucesso: {time}";
    LastError => "Last error: {time} — {error}", "Último erro: {time} — {error}";
    LastErrorUndated => "Last error: {error}", "Último erro: {error}";
    NoSyncYet => "Nothing sent to Agendor yet.", "Nada enviado ao Agendor ainda.";
    // Inboxes of every channel.
    Channel => "Channel", "Canal";
    WebsiteHelp => "A chat window on your website.", "Uma janela de chat no seu site.";
    WhatsappHelp => "A WhatsApp Business number, through Meta's Cloud API.", "Um número do WhatsApp Business, pela Cloud API da Meta.";
    ApiChannelHelp => "Any system of yours, through Chatwoot's API channel.", "Qualquer sistema seu, pelo canal de API do Chatwoot.";
    Required => "{field}: required", "{field}: obrigatório";
    MustBeWebAddress => "{field}: an address starting with http:// or https://", "{field}: um endereço começando com http:// ou https://";
    PhoneNumber => "Phone number", "Número de telefone";
    PhoneNumberHelp => "In international form, like +55 11 99999-0000. It cannot be changed later.", "No formato internacional, como +55 11 99999-0000. Não pode ser mudado depois.";
    PhoneNumberId => "Phone number ID", "ID do número de telefone";
    BusinessAccountId => "WhatsApp Business Account ID", "ID da conta do WhatsApp Business";
    AccessToken => "Access token (API key)", "Token de acesso (API key)";
    AccessTokenHelp => "A system user's token with whatsapp_business_messaging.", "O token de um usuário do sistema com whatsapp_business_messaging.";
    AppSecret => "App secret", "Chave secreta do app";
    VerifyToken => "Webhook verify token", "Token de verificação do webhook";
    VerifyTokenHelp => "Optional: left empty, switchboard makes one.", "Opcional: se ficar vazio, o switchboard cria um.";
    WebhookUrl => "Webhook URL", "URL do webhook";
    ApiWebhookHelp => "Optional. Where switchboard posts this inbox's conversation and message events (never private notes), signed with the inbox's secret.", "Opcional. Para onde o switchboard envia os eventos de conversas e mensagens desta caixa (nunca notas privadas), assinados com o segredo da caixa.";
    WhatsappNumber => "WhatsApp number", "Número do WhatsApp";
    NumberDisconnected => "Disconnected", "Desconectado";
    CallbackUrl => "Callback URL", "URL de callback";
    MetaHint => "In Meta's app dashboard, WhatsApp > Configuration: paste the Callback URL and the verify token, then subscribe to messages.", "No painel do app na Meta, WhatsApp > Configuração: cole a URL de callback e o token de verificação e assine o campo messages.";
    DisconnectedHelp => "This number is disconnected: nothing is received or sent, and its conversations stay. Enter its credentials to connect it again.", "Este número está desconectado: nada é recebido nem enviado, e as conversas continuam. Informe as credenciais para conectá-lo de novo.";
    Credentials => "Credentials", "Credenciais";
    CredentialsHelp => "Replace what changed: empty fields keep their saved values.", "Troque o que mudou: campos vazios mantêm o valor salvo.";
    ReconnectTitle => "Reconnect the number", "Reconectar o número";
    SecretKept => "Saved and never shown: leave empty to keep it.", "Salvo e nunca mostrado: deixe vazio para manter.";
    SaveCredentials => "Save credentials", "Salvar credenciais";
    Reconnect => "Reconnect", "Reconectar";
    DisconnectNumber => "Disconnect number", "Desconectar número";
    DisconnectNumberHelp => "Erases the credentials: WhatsApp messages stop coming in and replies are not sent. Conversations stay.", "Apaga as credenciais: as mensagens do WhatsApp param de chegar e as respostas não são enviadas. As conversas continuam.";
    NothingChanged => "Nothing to save.", "Nada para salvar.";
    ApiChannel => "API channel", "Canal de API";
    InboxSecret => "Secret", "Segredo";
    InboxSecretHelp => "Signs the callbacks: X-Chatwoot-Signature is sha256= and the hex HMAC-SHA256 of \"{timestamp}.{body}\" with it.", "Assina os callbacks: X-Chatwoot-Signature é sha256= e o HMAC-SHA256 em hex de \"{timestamp}.{body}\" com ele.";
    InboxIdentifier => "Inbox identifier", "Identificador da caixa de entrada";
    InboxIdentifierHelp => "For the Public client API: /public/api/v1/inboxes/{identifier}/…", "Para a API pública de clientes: /public/api/v1/inboxes/{identificador}/…";
    // Deliveries.
    Deliveries => "Deliveries", "Entregas";
    InboxDeliveriesHelp => "This inbox's latest outbound calls: API callbacks and WhatsApp sends. Account webhooks list theirs under Integrations → Webhooks.", "As últimas chamadas desta caixa: callbacks de API e envios ao WhatsApp. Os webhooks da conta mostram as suas em Integrações → Webhooks.";
    NoDeliveries => "No calls yet.", "Nenhuma chamada ainda.";
    Refresh => "Refresh", "Atualizar";
    Delivered => "Delivered", "Entregue";
    Failed => "Failed", "Falhou";
    Cancelled => "Cancelled", "Cancelada";
    Retrying => "Retrying", "Tentando de novo";
    Queued => "Queued", "Na fila";
    OneAttempt => "1 attempt", "1 tentativa";
    Attempts => "{n} attempts", "{n} tentativas";
    NextTry => "next try {time}", "próxima tentativa {time}";
    // Settings → Integrations → Webhooks.
    Webhooks => "Webhooks", "Webhooks";
    WebhooksHelp => "Send the account's events to your systems, as Chatwoot does. Each call is signed, retried for 24 hours, and listed under its webhook with the answer it got.", "Envie os eventos da conta para os seus sistemas, como no Chatwoot. Cada chamada é assinada, repetida por 24 horas e listada no seu webhook com a resposta recebida.";
    SignatureHelp => "To verify a call: X-Chatwoot-Signature = sha256= + hex HMAC-SHA256 of \"{X-Chatwoot-Timestamp}.{raw body}\" with the secret (docs/WEBHOOKS.md, \"Checking a signature\").", "Para verificar uma chamada: X-Chatwoot-Signature = sha256= + HMAC-SHA256 em hex de \"{X-Chatwoot-Timestamp}.{corpo bruto}\" com o segredo (docs/WEBHOOKS.md, \"Checking a signature\").";
    WebhooksConfigured => "{n} configured", "{n} configurado(s)";
    ManageWebhooks => "Manage webhooks →", "Gerenciar webhooks →";
    NoWebhooks => "No webhooks yet.", "Nenhum webhook ainda.";
    AddWebhook => "Add a webhook", "Adicionar webhook";
    EditWebhook => "Edit webhook", "Editar webhook";
    WebhookName => "Name (optional)", "Nome (opcional)";
    Events => "Events", "Eventos";
    AllEvents => "Every event", "Todos os eventos";
    OnlyInbox => "Only {inbox}", "Só {inbox}";
    WebhookInboxHelp => "Contact events go only to webhooks of every inbox.", "Eventos de contato vão só para webhooks de todas as caixas.";
    PickAnEvent => "Tick at least one event.", "Marque pelo menos um evento.";
    SigningSecret => "Signing secret", "Segredo de assinatura";
    Edit => "Edit", "Editar";
    Delete => "Delete", "Excluir";
    ConfirmDelete => "Click again to delete", "Clique de novo para excluir";
    Cancel => "Cancel", "Cancelar";
    Deleted => "Deleted.", "Excluído.";
    EvConversationCreated => "Conversation created", "Conversa criada";
    EvConversationStatusChanged => "Conversation status changed", "Status da conversa alterado";
    EvConversationUpdated => "Conversation updated", "Conversa atualizada";
    EvMessageCreated => "Message created", "Mensagem criada";
    EvMessageUpdated => "Message updated", "Mensagem atualizada";
    EvWebwidgetTriggered => "Chat window opened", "Janela de chat aberta";
    EvContactCreated => "Contact created", "Contato criado";
    EvContactUpdated => "Contact updated", "Contato atualizado";
    AdminsOnly => "Only administrators can change settings.", "Só administradores podem mudar as configurações.";
    // Profile.
    FullName => "Your full name", "Seu nome completo";
    DisplayName => "Display name", "Nome de exibição";
    DisplayNameHelp => "Shown to customers and in conversations instead of your full name.", "Mostrado aos clientes e nas conversas no lugar do seu nome completo.";
    UpdateProfile => "Update profile", "Atualizar perfil";
    ChangePassword => "Change password", "Alterar senha";
    CurrentPassword => "Current password", "Senha atual";
    NewPassword => "New password", "Nova senha";
    PasswordChanged => "Password changed.", "Senha alterada.";
    Language => "Language", "Idioma";
    // Relative times.
    JustNow => "now", "agora";
}
