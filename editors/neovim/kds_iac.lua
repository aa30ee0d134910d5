-- kds-iac language server for Neovim: diagnostics on open and save for Terraform and
-- CloudFormation. Needs `kds-iac` on PATH (pip install git+https://github.com/kds-iac/kds-iac,
-- or pip install ./kds-iac from a clone).
--
-- Neovim 0.11+: copy this file to ~/.config/nvim/lsp/kds_iac.lua and add
--   vim.lsp.enable("kds_iac")
-- to init.lua.
return {
  cmd = { "kds-iac", "lsp" },
  filetypes = { "terraform", "terraform-vars", "hcl", "yaml", "yaml.cloudformation", "json" },
  root_markers = { ".kds-iac.yaml", "pyproject.toml", ".git" },
}

-- Neovim 0.10: instead, in init.lua
--   vim.api.nvim_create_autocmd("FileType", {
--     pattern = { "terraform", "yaml", "json" },
--     callback = function(args)
--       vim.lsp.start({
--         name = "kds_iac",
--         cmd = { "kds-iac", "lsp" },
--         root_dir = vim.fs.root(args.buf, { ".kds-iac.yaml", "pyproject.toml", ".git" }),
--       })
--     end,
--   })
