//! `xproto`: the operator CLI of xprotocol. Decode captured frames into facts,
//! rewrite request ids, transcode frames to and from HTTP/2 messages, and
//! write the frames a proxy answers with itself (heartbeats, local replies, goaway).

mod codecs;
mod decode;
mod error;
mod http2;
mod input;
mod reply;
mod rewrite;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xprotocol_core::LocalStatus;

pub(crate) use error::CliError;

/// Exit statuses, also printed by `--help`.
const EXIT_STATUSES: &str = "\
Exit status:
  0  success
  1  bad input (malformed or incomplete frame, unrecognised protocol, bad JSON, id out of
     range), or a plugin refused
  2  usage error (including an unknown protocol name)
  3  the protocol does not support the operation";

/// Inspect and transform RPC frames (SOFA Bolt, …) with the xprotocol codecs.
#[derive(Debug, Parser)]
#[command(name = "xproto", version, about, after_long_help = EXIT_STATUSES)]
struct Cli {
    /// Load a codec plugin (a cdylib built with xprotocol-plugin-sdk); repeatable.
    /// Plugins come after the built-in codecs, replacing one of the same name.
    #[arg(long = "plugin", value_name = "PATH", global = true)]
    plugins: Vec<PathBuf>,
    /// Leave the built-in codecs out, so that only --plugin codecs are used.
    #[arg(long, global = true)]
    no_builtin: bool,
    /// The sub-command.
    #[command(subcommand)]
    command: Command,
}

/// Help of `--protocol NAME`.
const DETECT: &str = "Use this codec instead of detecting the protocol";
/// Help of `PROTO`.
const BUILD: &str = "The protocol of the frame to build";

/// The sub-commands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Split a byte stream into frames and print their facts as JSON.
    ///
    /// Prints one document, `{"frames":[FACTS,…],"consumed":N,"incomplete":bool}`:
    /// `consumed` counts the bytes up to the end of the last whole frame and
    /// `incomplete` says the input ends inside a frame. On a malformed frame the
    /// frames before it are printed, and the error goes to stderr (status 1).
    #[command(after_long_help = EXIT_STATUSES)]
    Decode {
        /// Input file; `-` or nothing reads stdin.
        file: Option<PathBuf>,
        #[arg(long, value_name = "NAME", help = codecs::protocol_help(DETECT))]
        protocol: Option<String>,
    },
    /// Read exactly one frame on stdin and write it with request id ID on stdout.
    #[command(after_long_help = EXIT_STATUSES)]
    RewriteId {
        /// The new request id (must fit the protocol's id field).
        id: u64,
        #[arg(long, value_name = "NAME", help = codecs::protocol_help(DETECT))]
        protocol: Option<String>,
    },
    /// Read exactly one frame on stdin and print it as an HTTP/2 message in JSON.
    ///
    /// The document is `{"message":"request"|"response","headers":{…},"body_hex":"…"}`;
    /// `headers` starts with the pseudo-headers, then every header in order; a
    /// header value is a string, or an array of strings when the name repeats.
    #[command(name = "to-http2", after_long_help = EXIT_STATUSES)]
    ToHttp2 {
        #[arg(long, value_name = "NAME", help = codecs::protocol_help(DETECT))]
        protocol: Option<String>,
    },
    /// Read the JSON of `to-http2` on stdin and write the frame it describes.
    #[command(name = "from-http2", after_long_help = EXIT_STATUSES)]
    FromHttp2 {
        #[arg(value_name = "PROTO", help = codecs::protocol_help(BUILD))]
        protocol: String,
    },
    /// Read exactly one heartbeat request on stdin and write its native reply.
    #[command(name = "heartbeat-reply", after_long_help = EXIT_STATUSES)]
    HeartbeatReply {
        #[arg(long, value_name = "NAME", help = codecs::protocol_help(DETECT))]
        protocol: Option<String>,
    },
    /// Read exactly one two-way request on stdin and write the native error
    /// response a proxy sends for STATUS.
    #[command(name = "local-reply", after_long_help = EXIT_STATUSES)]
    LocalReply {
        /// Why the proxy answers (mapped to the protocol's native status).
        #[arg(value_name = "STATUS", value_parser = reply::status_parser())]
        status: LocalStatus,
        /// Error message, where the protocol can carry one.
        #[arg(value_name = "MESSAGE", default_value = "")]
        message: String,
        #[arg(long, value_name = "NAME", help = codecs::protocol_help(DETECT))]
        protocol: Option<String>,
    },
    /// Write the protocol's active heartbeat request with request id ID.
    #[command(after_long_help = EXIT_STATUSES)]
    Heartbeat {
        #[arg(value_name = "PROTO", help = codecs::protocol_help(BUILD))]
        protocol: String,
        /// The request id (must fit the protocol's id field).
        id: u64,
    },
    /// Write the protocol's goaway frame, telling the peer to drain the connection.
    #[command(after_long_help = EXIT_STATUSES)]
    Goaway {
        #[arg(value_name = "PROTO", help = codecs::protocol_help(BUILD))]
        protocol: String,
        /// The request id (must fit the protocol's id field).
        #[arg(default_value_t = 0)]
        id: u64,
    },
    /// List the codecs (built-in and --plugin) and the layers each supports.
    #[command(after_long_help = EXIT_STATUSES)]
    Protocols,
    /// Run one sidecar from a TOML configuration (see `examples/sidecar/README.md`).
    ///
    /// Prints `listening NAME ADDRESS` per listener once they are bound, then
    /// runs until killed.
    Sidecar {
        /// The configuration file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Run a sidecar pair in one process: A accepts native traffic on
    /// `--listen` (protocol detected per connection), speaks HTTP/2 to B over
    /// loopback, and B forwards natively to `--upstream`.
    ///
    /// Prints `mesh listening ADDRESS peer ADDRESS` once ready, then runs until killed.
    Mesh {
        /// Where applications connect.
        #[arg(long, value_name = "HOST:PORT")]
        listen: std::net::SocketAddr,
        /// The upstream server (`IP:PORT`, or `scheme://name:port` with a DNS server in the config).
        #[arg(long, value_name = "HOST:PORT")]
        upstream: String,
        /// Routes, clusters and options; without it every interface routes to the upstream.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Start a Bolt and a Dubbo server, a sidecar pair with HTTP/2 between
    /// them, and clients; run calls with interface routing and a 90/10 split,
    /// and print what happened.
    Demo {
        /// Calls per protocol.
        #[arg(long, default_value_t = 300)]
        calls: usize,
    },
    /// Try to load each plugin file on its own and print one line per file:
    /// `PATH: NAME abi VERSION capabilities LAYERS` or `PATH: refused: WHY`
    /// (status 1 when any was refused).
    #[command(after_long_help = EXIT_STATUSES)]
    Plugins {
        /// Plugin files (cdylibs).
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
    },
}

impl Command {
    /// The protocol named on the command line, if any.
    fn protocol(&self) -> Option<&str> {
        match self {
            Self::Decode { protocol, .. }
            | Self::RewriteId { protocol, .. }
            | Self::ToHttp2 { protocol }
            | Self::HeartbeatReply { protocol }
            | Self::LocalReply { protocol, .. } => protocol.as_deref(),
            Self::FromHttp2 { protocol }
            | Self::Heartbeat { protocol, .. }
            | Self::Goaway { protocol, .. } => Some(protocol),
            Self::Protocols
            | Self::Plugins { .. }
            | Self::Sidecar { .. }
            | Self::Mesh { .. }
            | Self::Demo { .. } => None,
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xproto: {e}");
            if let Some(detail) = e.detail()
                && std::env::var_os("XPROTO_DEBUG").is_some()
            {
                eprintln!("{detail}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Load the plugins, check the protocol name, and run the sub-command.
fn run(cli: Cli) -> Result<(), CliError> {
    let registry = codecs::registry(&cli.plugins, cli.no_builtin)?;
    let command = cli.command;
    if let Some(name) = command.protocol() {
        codecs::named(&registry, name)?;
    }
    match command {
        Command::Decode { file, protocol } => {
            decode::run(&registry, file.as_deref(), protocol.as_deref())
        }
        Command::RewriteId { id, protocol } => rewrite::run(&registry, id, protocol.as_deref()),
        Command::ToHttp2 { protocol } => http2::to_http2(&registry, protocol.as_deref()),
        Command::FromHttp2 { protocol } => http2::from_http2(&registry, &protocol),
        Command::HeartbeatReply { protocol } => {
            reply::heartbeat_reply(&registry, protocol.as_deref())
        }
        Command::LocalReply {
            status,
            message,
            protocol,
        } => reply::local_reply(&registry, status, &message, protocol.as_deref()),
        Command::Heartbeat { protocol, id } => reply::heartbeat(&registry, &protocol, id),
        Command::Goaway { protocol, id } => reply::goaway(&registry, &protocol, id),
        Command::Protocols => codecs::list(&registry),
        Command::Plugins { paths } => codecs::check_plugins(&paths),
        Command::Sidecar { config } => serve::sidecar(registry, &config),
        Command::Mesh {
            listen,
            upstream,
            config,
        } => serve::mesh(registry, listen, &upstream, config.as_deref()),
        Command::Demo { calls } => serve::demo(calls),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use xprotocol_core::Error;

    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn unsupported_codec_error_exits_3() {
        let e = CliError::from(Error::Unsupported {
            protocol: "bolt",
            what: "goaway",
        });
        assert_eq!(e.exit_code(), 3);
        let e = CliError::Codec {
            context: "frame 1 at offset 0: ".into(),
            source: Error::Unsupported {
                protocol: "bolt",
                what: "command code",
            },
        };
        assert_eq!(e.exit_code(), 3);
    }

    #[test]
    fn missing_layer_exits_3() {
        let e = CliError::MissingLayer {
            protocol: "hsf".into(),
            layer: "transcoding",
        };
        assert_eq!(e.exit_code(), 3);
        assert_eq!(e.to_string(), "hsf: transcoding is not supported");
    }

    #[test]
    fn other_errors_exit_1() {
        let e = CliError::from(Error::IdOutOfRange {
            protocol: "bolt",
            id: 1 << 32,
            bits: 32,
        });
        assert_eq!(e.exit_code(), 1);
        assert_eq!(CliError::Input("x".into()).exit_code(), 1);
    }

    #[test]
    fn unknown_protocol_name_exits_2() {
        let e = codecs::named(&xprotocol_core::Registry::new(), "nope").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(e.to_string(), "unknown protocol `nope` (available: none)");
    }
}
