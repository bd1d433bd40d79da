use std::path::PathBuf;

use tiq_model::Lang;

/// Errors of key management and the access database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    #[error("cannot create the data directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the access database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the access database {path} has schema version {found}, newer than this tiq knows ({known}): upgrade tiq"
    )]
    NewerSchema {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("access database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("cannot draw random bytes for a key: {0}")]
    Random(#[from] getrandom::Error),
    #[error("invalid key name {0:?}: use 1 to 100 printable characters, such as \"soc-playbooks\"")]
    BadName(String),
    #[error("a key named {0:?} already exists: choose another name, or rotate that key")]
    DuplicateName(String),
    #[error("no key with the id or name {0:?}: run `tiq key list` for the keys")]
    NoSuchKey(String),
    #[error("key {0} is revoked: create a new key instead")]
    Revoked(String),
}

impl AccessError {
    /// Returns the message in `lang`. Errors that only an operator sees in logs stay in
    /// English.
    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            AccessError::BadName(name) => format!(
                "无效的密钥名称 {name:?}：请使用 1 到 100 个可打印字符，例如 \"soc-playbooks\""
            ),
            AccessError::DuplicateName(name) => {
                format!("名为 {name:?} 的密钥已存在：请换一个名称，或轮换该密钥")
            }
            AccessError::NoSuchKey(name) => {
                format!("没有 id 或名称为 {name:?} 的密钥：运行 `tiq key list` 查看全部密钥")
            }
            AccessError::Revoked(id) => format!("密钥 {id} 已吊销：请创建新密钥"),
            AccessError::NewerSchema { path, found, known } => format!(
                "访问数据库 {} 的结构版本为 {found}，比本程序支持的版本（{known}）新：请升级 tiq",
                path.display()
            ),
            other => other.to_string(),
        }
    }
}
