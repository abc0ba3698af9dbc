//! Feed arbitrary bytes, cut into arbitrary pieces, to the frame decoder;
//! validate every frame it yields and decode every term in it. Nothing may
//! panic, whatever the bytes.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mesh_core::NodeId;
use mesh_core::dist::frame::{FrameDecoder, FrameRef};
use mesh_core::dist::term_codec::{self, NodeCodec, WireNode};

#[derive(Debug, Arbitrary)]
struct Input {
    /// Where to cut `bytes` into deliveries.
    cuts: Vec<u16>,
    limit: u16,
    bytes: Vec<u8>,
}

/// Resolves every node, so term decoding goes as deep as it can.
struct AnyNode;

impl NodeCodec for AnyNode {
    fn name_node(&self, _: NodeId) -> Option<WireNode<'_>> {
        Some(WireNode::Sender)
    }
    fn resolve_node(&mut self, node: WireNode<'_>) -> Option<NodeId> {
        Some(match node {
            WireNode::Sender => NodeId(1),
            WireNode::Receiver => NodeId::LOCAL,
            WireNode::Named(n) => NodeId(2 + n.len() as u32),
        })
    }
}

fuzz_target!(|input: Input| {
    let mut d = FrameDecoder::new(usize::from(input.limit) + 64);
    let mut cuts: Vec<usize> = input
        .cuts
        .iter()
        .map(|c| usize::from(*c) % (input.bytes.len() + 1))
        .collect();
    cuts.push(input.bytes.len());
    cuts.sort_unstable();
    let mut at = 0;
    for cut in cuts {
        d.push_bytes(&input.bytes[at..cut]);
        at = cut;
        loop {
            match d.next_frame() {
                Ok(Some(f)) => match f.decode() {
                    Ok(FrameRef::Send(b)) => {
                        let _ = term_codec::decode(&b.msg, &mut AnyNode);
                        let _ = b.to.to_pid(&mut AnyNode);
                    }
                    Ok(FrameRef::Exit(b)) => {
                        let _ = term_codec::decode(&b.reason, &mut AnyNode);
                    }
                    Ok(FrameRef::SpawnRequest(b)) => {
                        let _ = term_codec::decode(&b.args, &mut AnyNode);
                    }
                    Ok(_) => {}
                    Err(_) => return,
                },
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = d.finish();
});
