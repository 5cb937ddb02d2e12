//! Named facts of a Thrift frame, named like the other codecs' facts.

use crate::wire::{self, message_type, parse};
use crate::{PROTOCOL, ThriftCodec, xp};

impl ThriftCodec {
    /// `kind`, `oneway`, `request_id`, `method`, `service`, `message_type`,
    /// `name`, `strict`, `frame_length`, `body_length`, and for EXCEPTION
    /// messages whose struct is a plain `TApplicationException`,
    /// `exception_message` and `exception_type`.
    pub(crate) fn frame_facts(&self, frame: &bytes::Bytes) -> Result<xp::Facts, xp::Error> {
        let msg = parse(frame, &self.limits)?;
        let mut facts = xp::Facts::new(PROTOCOL);
        facts.push("kind", msg.kind().as_str());
        facts.push("oneway", msg.message_type == message_type::ONEWAY);
        facts.push("request_id", u64::from(msg.seqid(frame)));
        let (at, len) = msg.method(frame);
        facts.push("method", &frame[at..at + len]);
        facts.push(
            "service",
            msg.service(frame).map(|(at, len)| &frame[at..at + len]),
        );
        facts.push("message_type", message_type::name(msg.message_type));
        facts.push("name", msg.name(frame));
        facts.push("strict", msg.strict);
        facts.push("frame_length", frame.len() as i64);
        facts.push("body_length", (frame.len() - msg.body_at) as i64);
        if msg.message_type == message_type::EXCEPTION
            && let Some((message, ty)) = wire::read_exception(&frame[msg.body_at..])
        {
            facts.push("exception_message", message);
            facts.push("exception_type", ty.map(i64::from));
        }
        Ok(facts)
    }
}
